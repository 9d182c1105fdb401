"""Build data/nuts/nuts_correspondence.csv: links between NUTS regions of adjacent versions.

Usage (from the project root)::

    python scripts/build_nuts_correspondence.py [--shared ../shared/data] [--out data/nuts/nuts_correspondence.csv]

Only a maintainer runs this; the pipeline reads the bundled CSV. Sources (details, licences and
caveats in data/nuts/SOURCE.md):

* 2021 <-> 2024: Eurostat's official NUTS2021-NUTS2024 correspondence in ../shared/data/nuts2021
  (the CSV of both sheets, and the workbook's change sheets for the parts of splits).
* 2013 <-> 2016 <-> 2021: the European Commission JRC's NUTS converter matrices (release 2025.08),
  which give the area and population of every piece shared by regions of two versions. Eurostat's
  own NUTS2013-NUTS2016 and NUTS2016-NUTS2021 workbooks are not in the stored public index as
  text; the JRC matrices are, as CSV, in github.com/ropensci/nuts. ``JRC`` below holds the rows
  of those matrices that touch a changed region, transcribed from that copy (see ``JRC_FILES``);
  every other region of a covered country maps to itself. The UK (out of NUTS since 2021, and
  kept in its NUTS 2016 codes by the resolver) comes from the bundled gazetteer's NUTS 2016 codes.

The output is reproducible: rows are sorted and written with "\\n" line ends.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import logging
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from s3text.nuts_versions import COLUMNS, Link, NutsConverter

log = logging.getLogger("build_nuts_correspondence")

JRC_REPO = "github.com/ropensci/nuts, commit 8637f59e6913ce9d6403a3f96e0c3fdd4b13c8f0"
JRC_FILES = {pair: f"data-raw/_JRC_NUTSconverter_Matrices_rel.2025.08/n{{1,2,3}}_cm_v{pair[0]}_v{pair[1]}.csv"
             for pair in (("2013", "2016"), ("2016", "2021"))}
# Countries the JRC matrices cover; the others (and extra-regio codes, which have no territory)
# are assumed unchanged where the code exists in both versions.
_COVERED = ("AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU",
            "IE", "IS", "IT", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK")
JRC_COUNTRIES = {("2016", "2021"): frozenset(_COVERED), ("2013", "2016"): frozenset((*_COVERED, "LI"))}
# Rows "code_old,code_new,areaKm,pop21" of the JRC matrices (levels 1-3) whose old or new code
# takes part in a change, areas rounded to 0.001 km²; pop21 is the 2021 resident population (for
# the French overseas regions and Iceland the matrices repeat another figure there; kept as is).
# The UK's rows are left out: the resolver keeps UK codes in NUTS 2016 and never converts them.
JRC = {("2013", "2016"): """
CZ02,CZ02,10929.219,1414194 CZ02,CZ03,87.932,68 CZ020,CZ020,10929.219,1414194 CZ020,CZ032,87.932,68
CZ03,CZ03,17619.267,1213225 CZ032,CZ032,7561.330,581391 CZ041,CZ041,3310.484,279313 CZ041,CZ042,3.397,13
CZ042,CZ042,5335.257,788472 CZ06,CZ06,13983.370,1695337 CZ06,CZ07,6.197,13 CZ064,CZ064,7187.099,1197642
CZ064,CZ071,6.197,13 CZ07,CZ07,9226.429,1184176 CZ07,CZ08,2.722,1 CZ071,CZ071,5264.626,619811
CZ071,CZ080,2.722,1 CZ08,CZ08,5428.019,1162130 CZ080,CZ080,5428.019,1162130
DE235,DE235,1519.674,125637 DE239,DE235,5.925,0 DE239,DE239,1457.598,145456 DE915,DE91C,1118.526,251888
DE919,DE91C,636.035,70797 DEB16,DEB1C,693.009,60312 DEB19,DEB1D,991.068,104443
EE006,EE006,9067.713,120591 EE007,EE006,67.095,1439 EE007,EE007,3452.064,132744 EE007,EE008,498.694,1718
EE008,EE008,16712.035,314950
EL3,EL3,3795.410,3799090 EL3,EL6,2.100,0 EL30,EL30,3795.410,3799090 EL30,EL64,2.100,0
EL306,EL306,1001.252,163861 EL306,EL641,2.100,0 EL51,EL51,14172.219,558854 EL514,EL514,3465.321,86099
EL52,EL51,1.025,0 EL52,EL52,18806.413,1789432 EL526,EL514,1.025,0 EL526,EL526,3966.904,150994
EL6,EL6,58645.161,2574034 EL632,EL632,3270.383,304496 EL633,EL632,1.881,0 EL633,EL633,2616.219,148429
EL64,EL64,15533.021,504773 EL641,EL641,2948.418,105556
ES1,ES1,45492.213,4289985 ES11,ES11,29566.487,2693857 ES112,ES112,9855.502,325948 ES4,ES1,1.252,0
ES4,ES4,215312.208,5498139 ES41,ES11,1.252,0 ES41,ES41,94220.827,2384420 ES413,ES112,1.252,0
ES413,ES413,15577.065,452225
FI1D4,FI1D8,22688.142,70848 FI1D4,FI1D9,1762.423,2695 FI1D6,FI1D9,37379.951,406606
FR2,FRB,39529.668,2567002 FR2,FRC,31753.177,1618034 FR2,FRD,30067.760,3320902 FR2,FRE,19492.410,1920882
FR2,FRF,25725.828,1314413 FR21,FRF2,25718.261,1314369 FR211,FRF21,5244.332,268738
FR212,FRF22,6027.577,310752 FR213,FRF23,8189.463,564070 FR214,FRF24,6256.888,170809
FR22,FRE2,19492.410,1920882 FR22,FRF2,7.567,44 FR221,FRE21,7410.463,526983 FR221,FRF23,7.567,44
FR222,FRE22,5890.107,827914 FR223,FRE23,6191.840,565985 FR23,FRD2,12324.553,1851509
FR231,FRD21,6024.822,597350 FR232,FRD22,6299.730,1254159 FR24,FRB0,39529.668,2567002
FR241,FRB01,7305.986,299010 FR242,FRB02,5932.082,430471 FR243,FRB03,6899.342,216796
FR244,FRB04,6157.469,610403 FR245,FRB05,6421.671,326753 FR246,FRB06,6813.118,683569
FR25,FRD1,17743.207,1469393 FR251,FRD11,5586.189,699242 FR251,FRD12,13.555,486 FR252,FRD12,5997.207,493217
FR253,FRD13,6146.256,276448 FR26,FRC1,31753.177,1618034 FR261,FRC11,8801.601,534668
FR262,FRC12,6875.428,201901 FR263,FRC13,8614.608,548877 FR264,FRC14,7461.539,332588
FR3,FRE,12436.947,4058791 FR30,FRE1,12436.947,4058791 FR301,FRE11,5743.512,2600906
FR302,FRE12,6693.435,1457885 FR4,FRC,16306.996,1177938 FR4,FRF,31997.395,4244403 FR41,FRF3,23668.304,2322889
FR411,FRF31,5284.431,731055 FR412,FRF32,6234.494,181864 FR413,FRF33,6251.962,1049599
FR414,FRF34,5897.417,360371 FR42,FRF1,8329.092,1921514 FR421,FRF11,4797.296,1151004
FR422,FRF12,3531.796,770510 FR43,FRC2,16306.996,1177938 FR431,FRC21,5256.269,546659
FR432,FRC22,5049.217,258224 FR433,FRC23,5390.446,233612 FR434,FRC24,611.063,139443 FR5,FRG,32337.839,3842920
FR5,FRH,27386.055,3382055 FR5,FRI,25927.709,1821506 FR51,FRG0,32337.839,3842920 FR511,FRG01,6873.399,1450544
FR511,FRG02,5.999,903 FR512,FRG01,65.170,1106 FR512,FRG02,7166.319,821842 FR513,FRG03,5213.212,305677
FR514,FRG04,6245.647,564588 FR515,FRG05,6768.092,698260 FR52,FRH0,27386.055,3382055
FR521,FRH01,6976.456,604401 FR522,FRH02,6750.359,916716 FR523,FRH03,6838.139,1095146
FR524,FRH04,6821.102,765792 FR53,FRI3,25927.709,1821506 FR531,FRI31,5974.199,350087
FR532,FRI32,6874.328,659069 FR533,FRI33,6040.033,374017 FR534,FRI34,7039.149,438333
FR6,FRI,58775.973,4232729 FR6,FRJ,45602.817,3117381 FR61,FRI1,41720.326,3506628 FR611,FRI11,9222.428,411931
FR612,FRI12,10081.487,1650552 FR613,FRI13,9349.428,422332 FR614,FRI14,5385.351,330512
FR615,FRI15,7681.631,691301 FR62,FRJ2,45602.817,3117381 FR621,FRJ21,4911.377,154292
FR622,FRJ22,8773.383,279653 FR623,FRJ23,6358.011,1431670 FR624,FRJ24,6300.594,192258
FR625,FRJ25,5226.192,174367 FR626,FRJ26,4520.613,229873 FR627,FRJ27,5781.863,392676
FR628,FRJ28,3730.783,262592 FR63,FRI2,17055.648,726101 FR631,FRI21,5898.658,239607
FR632,FRI22,5599.908,115469 FR633,FRI23,5557.082,371025 FR7,FRK,70899.728,8103063
FR71,FRK2,44727.051,6738385 FR711,FRK21,5785.288,661980 FR712,FRK22,5565.846,330778
FR713,FRK23,6559.529,518549 FR714,FRK24,7879.123,1283290 FR715,FRK25,4804.303,768498
FR716,FRK26,3258.623,1892415 FR717,FRK27,6269.793,442207 FR718,FRK28,4604.546,840668
FR72,FRK1,26172.677,1364678 FR721,FRK11,7379.453,333954 FR722,FRK12,5774.376,143839
FR723,FRK13,5004.198,226990 FR724,FRK14,8014.651,659895 FR8,FRJ,27642.051,2890119 FR8,FRL,31671.924,5116098
FR8,FRM,8720.169,346256 FR81,FRJ1,27642.051,2890119 FR811,FRJ11,6323.221,375060 FR812,FRJ12,5875.237,755709
FR813,FRJ13,6161.825,1197326 FR814,FRJ14,5175.525,76475 FR815,FRJ15,4106.242,485549
FR82,FRL0,31671.924,5116098 FR821,FRL01,6995.151,165928 FR822,FRL02,5690.593,140786
FR823,FRL03,4294.139,1101204 FR824,FRL04,5086.213,2051544 FR825,FRL05,6027.675,1092631
FR826,FRL06,3578.154,564005 FR83,FRM0,8720.169,346256 FR831,FRM01,4014.845,162401
FR832,FRM02,4705.324,183855 FRA,FRY,89403.202,89403.202 FRA1,FRY1,1682.340,1682.340
FRA10,FRY10,1682.340,1682.340 FRA2,FRY2,1105.339,1105.339 FRA20,FRY20,1105.339,1105.339
FRA3,FRY3,83746.865,83746.865 FRA30,FRY30,83746.865,83746.865 FRA4,FRY4,2503.779,2503.779
FRA40,FRY40,2503.779,2503.779 FRA5,FRY5,364.879,364.879 FRA50,FRY50,364.879,364.879
HR03,HR03,24574.123,1287013 HR03,HR04,1.806,0 HR031,HR031,3571.101,264115 HR031,HR04D,1.806,0
HR032,HR032,5343.220,42503 HR032,HR033,2.960,0 HR033,HR032,5.509,0 HR033,HR033,3616.154,157682
HR04,HR04,31697.548,2573606 HR04D,HR04D,3612.363,112413 HR04D,HR04E,2.108,0 HR04E,HR04D,1.008,4
HR04E,HR04E,4460.928,139650
HU10,HU11,525.185,1682078 HU10,HU12,6390.775,1332109 HU101,HU110,525.185,1682078
HU102,HU120,6390.775,1332109
IE01,IE04,25759.157,903642 IE01,IE06,7477.183,458303 IE011,IE041,11504.847,419461 IE011,IE062,826.388,140473
IE012,IE063,6650.795,317830 IE013,IE042,14254.310,484181 IE02,IE05,29665.994,1698866
IE02,IE06,6987.232,2081697 IE021,IE061,925.039,1455507 IE022,IE062,6062.194,626190
IE023,IE051,7972.948,411308 IE024,IE051,2258.701,92304 IE024,IE052,7194.776,457510
IE025,IE053,12239.569,737744
IS001,IS001,1042.819,201557.948 IS002,IS001,1.697,0 IS002,IS002,101609.626,112966.728
ITH3,ITH3,17685.324,4826147 ITH3,ITH4,61.988,1308 ITH33,ITH33,3608.607,198633 ITH33,ITH42,61.988,1308
ITH4,ITH4,7706.479,1192303 ITH42,ITH42,4823.333,516720
LT00,LT01,9730.280,810798 LT00,LT02,55159.926,1999947 LT001,LT021,5419.913,137768
LT002,LT022,8088.177,569638 LT003,LT023,4818.764,322204 LT004,LT024,4467.272,138233
LT005,LT025,7879.898,216326 LT006,LT026,8539.221,262201 LT007,LT027,4407.756,92626
LT008,LT028,4348.605,133386 LT009,LT029,7190.321,127565 LT00A,LT011,9730.280,810798
NL111,NL111,769.792,135504 NL111,NL113,81.643,11959 NL113,NL113,1279.442,393717 NL121,NL124,1536.436,314794
NL121,NL125,68.350,5510 NL122,NL125,1384.942,136338 NL123,NL126,1006.485,187882 NL322,NL328,302.365,250558
NL326,NL329,875.342,1390969 NL338,NL33B,521.087,338747 NL339,NL33C,1497.029,1461523
NO061,NO061,18106.429,320518 NO061,NO062,620.695,6476 NO062,NO062,22301.801,135454
PL1,PL7,18218.804,2375413 PL1,PL9,35558.444,5479284 PL11,PL71,18218.804,2375413 PL113,PL711,293.268,665636
PL114,PL712,2205.773,386113 PL115,PL713,5971.021,553916 PL116,PL714,5666.767,424571
PL117,PL715,4081.975,345177 PL12,PL91,6104.061,3244378 PL12,PL92,29454.383,2234906
PL127,PL911,517.187,1861227 PL128,PL921,5762.901,572951 PL129,PL912,3123.993,677902
PL129,PL913,694.744,79325 PL129,PL925,1284.874,105420 PL12A,PL913,1768.137,625924
PL12A,PL926,2535.269,257218 PL12B,PL922,5255.277,325559 PL12C,PL923,3351.574,310524
PL12D,PL924,6505.429,365444 PL12E,PL925,4759.058,297790 PL3,PL7,11708.714,1151488 PL3,PL8,63155.501,5047944
PL31,PL81,25122.855,1976489 PL311,PL811,5977.373,279217 PL312,PL812,9291.284,567168
PL314,PL814,4220.650,687396 PL315,PL815,5633.548,442708 PL32,PL82,17845.609,1976382
PL323,PL821,5537.254,441878 PL324,PL822,4292.579,356153 PL325,PL823,3550.534,616265
PL326,PL824,4465.242,562086 PL33,PL72,11708.714,1151488 PL331,PL721,5030.851,707054
PL332,PL722,6677.863,444434 PL34,PL84,20187.038,1095073 PL343,PL841,5133.029,488600
PL344,PL842,8817.436,358408 PL345,PL843,6236.573,248065
RO113,RO113,6672.614,678696 RO113,RO116,1.007,0 RO116,RO116,3866.597,212271 RO3,RO3,36270.887,5123831
RO3,RO4,2.768,0 RO31,RO31,34466.653,2864679 RO31,RO41,2.768,0 RO313,RO313,4046.104,479752
RO313,RO317,11.073,0 RO317,RO317,5786.404,323535 RO317,RO414,2.768,0 RO4,RO4,61238.766,3542781
RO41,RO41,29205.682,1873930 RO414,RO414,5504.278,383341
SE11,SE11,6922.025,2404132 SE11,SE12,1.582,0 SE110,SE110,6922.025,2404132 SE110,SE121,1.582,0
SE12,SE12,43218.967,1748204 SE121,SE121,8594.888,393553
""", ("2016", "2021"): """
AT224,AT224,3314.639,266539 AT224,AT225,24.408,1768 AT225,AT225,2272.418,196505
BE21,BE21,2869.843,1878443 BE21,BE23,1.240,0 BE211,BE211,998.488,1061174 BE211,BE236,1.240,0
BE221,BE224,883.707,423540 BE221,BE225,25.167,10427 BE222,BE225,885.594,243066 BE23,BE21,1.336,0
BE23,BE23,3005.288,1532951 BE236,BE211,1.336,0 BE236,BE236,478.321,256923 BE321,BE32A,491.121,87726
BE322,BE32B,475.686,396817 BE322,BE32C,83.274,35092 BE324,BE328,102.384,80758 BE325,BE329,64.255,80762
BE325,BE32A,180.559,40914 BE325,BE32C,274.548,71075 BE326,BE329,154.875,60945 BE326,BE32D,785.442,91938
BE327,BE328,612.710,147750
CH055,CH055,2027.395,522011 CH055,CH057,5.174,5 CH057,CH057,989.659,284647
DEG04,DEG04,102.392,33116 DEG0B,DEG0B,1210.114,118096 DEG0F,DEG04,40.184,2033 DEG0F,DEG0F,802.882,105431
DEG0H,DEG0H,432.917,53643 DEG0I,DEG0H,27.675,2100 DEG0I,DEG0I,1008.296,101010 DEG0P,DEG0B,40.570,3080
DEG0P,DEG0P,1264.808,116284
EE001,EE001,4324.157,614335 EE001,EE004,11.595,50 EE004,EE004,11171.663,145615 EE006,EE009,9134.849,122029
EE007,EE00A,3453.564,132744
HR04,HR02,23084.333,1019817 HR04,HR05,641.372,767265 HR04,HR06,8025.998,786762 HR041,HR050,641.372,767265
HR042,HR065,3061.903,299770 HR043,HR064,1229.579,120908 HR044,HR062,1259.747,159615
HR045,HR063,1748.228,101208 HR046,HR061,726.542,105261 HR047,HR021,2638.999,101873
HR048,HR022,2022.433,70359 HR049,HR023,1822.633,64083 HR04A,HR024,2028.126,130348
HR04B,HR025,4050.407,257956 HR04C,HR026,2433.458,143109 HR04D,HR027,3620.710,112429
HR04E,HR028,4467.567,139660
ITC43,ITC43,806.207,333298 ITC43,ITC46,8.984,2007 ITC46,ITC46,2747.882,1098552 ITG25,ITG2D,4287.324,316998
ITG26,ITG2E,3934.126,146675 ITG27,ITG2F,1248.446,420157 ITG27,ITG2H,3323.212,123468
ITG28,ITG2G,2991.928,151501 ITG28,ITG2H,43.828,756 ITG29,ITG2D,3400.833,157867 ITG2A,ITG2E,1707.881,53640
ITG2A,ITG2H,148.327,1178 ITG2B,ITG2H,1518.444,92525 ITG2C,ITG2H,1500.434,118827
NL31,NL31,1449.376,1324536 NL310,NL310,1449.376,1324536 NL324,NL324,115.969,229776 NL324,NL329,21.084,6103
NL329,NL329,875.342,1390969 NL33,NL31,110.816,35916 NL33,NL33,3136.323,3725800 NL33A,NL310,110.816,35916
NL33A,NL33A,402.020,372652 NL412,NL412,933.221,485309 NL413,NL412,26.703,7268 NL413,NL413,1361.347,659749
NO01,NO08,5364.974,1327889 NO011,NO081,451.296,688751 NO012,NO082,4913.678,639138 NO02,NO02,52072.353,370291
NO02,NO08,517.555,15905 NO021,NO020,27397.818,197642 NO022,NO020,24674.535,172649 NO022,NO082,517.555,15905
NO03,NO08,19123.510,593638 NO03,NO09,17414.438,416597 NO031,NO082,4156.611,300950
NO032,NO082,14909.259,286280 NO033,NO082,57.640,6408 NO033,NO091,2133.904,244798
NO034,NO091,15280.534,171799 NO04,NO09,16360.867,302523 NO04,NO0A,9325.968,471357
NO041,NO092,9126.035,116675 NO042,NO092,7234.831,185848 NO043,NO0A1,9325.968,471357 NO05,NO06,931.754,3503
NO05,NO0A,47902.066,875103 NO051,NO0A2,15289.027,517234 NO052,NO0A2,18352.737,104975
NO052,NO0A3,186.771,1150 NO053,NO060,931.754,3503 NO053,NO0A3,14073.531,251744 NO06,NO06,41028.925,462448
NO061,NO060,18106.429,320518 NO062,NO060,22922.496,141930 NO07,NO07,112452.854,469239
NO071,NO071,37741.114,232935 NO071,NO074,316.900,1204 NO072,NO074,25822.843,162105
NO073,NO074,48571.997,72995
RO1,RO1,68263.454,4792723 RO1,RO4,1.311,0 RO11,RO11,34153.461,2521613 RO11,RO12,6.318,1
RO113,RO113,6666.815,678695 RO113,RO121,6.318,1 RO12,RO12,34103.675,2271109 RO12,RO41,1.311,0
RO121,RO121,6249.496,325987 RO121,RO415,1.311,0 RO4,RO4,61239.303,3542775 RO41,RO41,29206.580,1873929
RO415,RO415,5764.902,341935
"""}

# Eurostat 2021 -> 2024 mergers, from the sheet "Changes NUTS-3" of NUTS2021-NUTS2024.xlsx:
# "Eisenach (16056000, ex-DEG0N) merged into ex-DEG0P" (now DEG0R), and "Ex-LV006 and ex-LV007
# regions merged to LV00A ... Tukuma novads moved from ex-LV007 to ex-LV003 [now LV00B] ...
# Limbažu, Ogres, Saulkrastu novads moved from ex-LV007 to ex-LV008 [now LV00C]".
MERGED_2024 = {"DEG0N": ("DEG0R",), "LV007": ("LV00A", "LV00B", "LV00C")}
# The change sheets name a split's parts: "PT1A + PT1B = ex-PT17", "NO083 + NO084 + NO085 = ex-NO082".
_SPLIT = re.compile(r"((?:[A-Z]{2}[A-Z0-9]{1,3}\s*\+\s*)+[A-Z]{2}[A-Z0-9]{1,3})\s*=\s*ex-([A-Z]{2}[A-Z0-9]{1,3})")
EXACT = 0.999  # both regions keep 99.9 % of their population: the same territory
UK_GAZETTEER = "gazetteer_lau2020_nuts2021.csv.gz"


def _with_parents(codes: set[str]) -> set[str]:
    return {code[:n] for code in codes for n in range(2, len(code) + 1)}


def jrc_links(old: str, new: str, new_codes: set[str], extra_old: set[str]) -> list[Link]:
    """Links from the JRC rows; a region they do not touch keeps its code."""
    flows: dict[tuple[str, str], tuple[float, float]] = {}
    for item in JRC[(old, new)].split():
        a, b, area, pop = item.split(",")
        flows[a, b] = (float(area), float(pop))
    out_total: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    in_total: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (a, b), (km2, people) in flows.items():
        for total in (out_total[a], in_total[b]):
            total[0] += km2
            total[1] += people

    def share(part: tuple[float, float], total: list[float]) -> float:
        # Population where there is any; area for a piece of land nobody lives in.
        return part[1] / total[1] if total[1] else part[0] / total[0]

    if unknown := sorted(set(in_total) - new_codes):  # a slip in the transcription
        raise SystemExit(f"JRC {old}->{new} rows name codes that NUTS {new} lacks: {unknown}")
    links = []
    for (a, b), part in sorted(flows.items()):
        fs, ts = share(part, out_total[a]), share(part, in_total[b])
        links.append(Link(old, a, new, b, fs >= EXACT and ts >= EXACT, fs, ts, "", "jrc"))
    covered = JRC_COUNTRIES[(old, new)]
    for code in sorted(new_codes - set(in_total) - set(out_total)):
        territorial = code[:2] in covered and not code.endswith("Z")  # extra-regio codes end in Z
        links.append(Link(old, code, new, code, True, 1.0, 1.0, "", "jrc" if territorial else "assumed"))
    for code in sorted(extra_old - new_codes - set(out_total)):
        links.append(Link(old, code, new, None, False, None, None, "", "gazetteer"))
    return links


def eurostat_links(shared: Path) -> list[Link]:
    """2021 -> 2024 links from Eurostat's correspondence CSV and the workbook's change sheets."""
    import openpyxl

    with (shared / "nuts2021" / "nuts2021_nuts2024_correspondence.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    splits: dict[str, tuple[str, ...]] = {}
    book = openpyxl.load_workbook(shared / "nuts2021" / "NUTS2021-NUTS2024.xlsx", read_only=True)
    for sheet in ("Changes NUTS-2", "Changes NUTS-3"):
        for values in book[sheet].iter_rows(values_only=True):
            for text in (v for v in values if isinstance(v, str)):
                for m in _SPLIT.finditer(text):
                    splits[m.group(2)] = tuple(re.split(r"\s*\+\s*", m.group(1)))
    # Eurostat lists a redrawn region twice, old and new code under one name: pair them.
    successor = {(r["country_code"], r["level"], r["label"]): r["code_2024"]
                 for r in rows if r["code_2024"] and not r["code_2021"]}
    targets: dict[str, tuple[str, ...]] = {}
    exact: dict[str, bool] = {}
    for r in rows:
        a, b, change = r["code_2021"], r["code_2024"], r["change_2021_to_2024"]
        if a:
            # "art. 5(2a)": a boundary shift too small to count as an amendment, still a shift.
            exact[a] = bool(b) and change in ("", "Name change", "Code change")
            name = successor.get((r["country_code"], r["level"], r["label"]))
            targets[a] = (b,) if b else splits.get(a) or MERGED_2024.get(a) or ((name,) if name and len(a) == 5 else ())
    # A NUTS-1 or NUTS-2 code that disappears goes where its NUTS-3 regions go (PT16 -> PT19 + PT1D).
    for a in [a for a, t in targets.items() if not t and len(a) < 5]:
        targets[a] = tuple(sorted({t[: len(a)] for c, ts in targets.items() if c.startswith(a) and len(c) == 5
                                   for t in ts}))
    if missing := sorted(a for a, t in targets.items() if not t):
        raise SystemExit(f"no NUTS 2024 successor for {missing}")
    countries = {c[:2] for r in rows for c in (r["code_2021"], r["code_2024"]) if c}
    for cc in countries - set(targets):  # statistical regions list no level-0 row
        if any(a.startswith(cc) for a in targets):
            targets[cc], exact[cc] = (cc,), True
    sources: dict[str, int] = defaultdict(int)
    for ts in targets.values():
        for t in ts:
            sources[t] += 1
    links = [Link("2021", a, "2024", b, exact[a], 1.0 if len(ts) == 1 else None,
                  1.0 if sources[b] == 1 else None, "", "eurostat")
             for a, ts in sorted(targets.items()) for b in ts]
    new_codes = {r["code_2024"] for r in rows if r["code_2024"]} | (countries - set(targets))
    links += [Link("2021", None, "2024", b, False, None, None, "", "eurostat")
              for b in sorted(new_codes - set(sources))]
    return links


def read_codes(path: Path, column: str) -> set[str]:
    with (gzip.open if path.suffix == ".gz" else open)(path, "rt", encoding="utf-8", newline="") as fh:
        return {r[column] for r in csv.DictReader(fh) if r[column]}


def build(shared: Path, nuts_dir: Path) -> list[Link]:
    codes_2021 = _with_parents(read_codes(shared / "nuts2021" / "nuts2021.csv", "nuts_code"))
    uk = {c for c in read_codes(nuts_dir / UK_GAZETTEER, "nuts3_code") if c.startswith("UK")}
    links = jrc_links("2016", "2021", codes_2021, _with_parents(uk) | {"UKZ", "UKZZ", "UKZZZ"})
    codes_2016 = {link.from_code for link in links if link.from_code and not link.from_code.startswith("UK")}
    links += jrc_links("2013", "2016", codes_2016, set())
    links += eurostat_links(shared)
    seen = {v: {c for link in links for c in (link.from_code if link.from_version == v else None,
                                               link.to_code if link.to_version == v else None) if c}
            for v in ("2013", "2016", "2021", "2024")}
    from_2021 = {link.from_code for link in links if link.from_version == "2021" and link.from_code}
    if diff := from_2021 ^ {link.to_code for link in links if link.to_version == "2021" and link.to_code}:
        raise SystemExit(f"the NUTS 2021 codes of the two correspondences differ: {sorted(diff)}")
    log.info("codes: %s", {v: len(c) for v, c in seen.items()})
    # The change column says, for a reader, what happens to from_code going forward.
    converter = NutsConverter(links)
    out = []
    for link in links:
        if link.from_code is None:
            change = "new"
        else:
            change = converter.convert(link.from_code, link.from_version, link.to_version).change
        out.append(Link(link.from_version, link.from_code, link.to_version, link.to_code, link.exact,
                        link.from_share, link.to_share, change, link.source))
    return sorted(out, key=lambda k: (k.from_version, k.from_code or "", k.to_code or ""))


def write(links: list[Link], path: Path) -> None:
    def share(x: float | None) -> str:
        return "" if x is None else f"{x:.4f}".rstrip("0").rstrip(".")

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for k in links:
            code = k.from_code or k.to_code or ""
            writer.writerow([k.from_version, k.from_code or "", k.to_version, k.to_code or "", len(code) - 2,
                             k.change, "true" if k.exact else "false", share(k.from_share), share(k.to_share),
                             k.source])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("data/nuts/nuts_correspondence.csv"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    links = build(args.shared, args.out.parent)
    write(links, args.out)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for k in links:
        if k.from_code and k.change != "unchanged":
            counts[k.from_version, k.to_version, k.change] += 1
    for (a, b, change), n in sorted(counts.items()):
        log.info("%s -> %s %-15s %d links", a, b, change, n)
    log.info("%s: %d links, sha256 %s", args.out, len(links), hashlib.sha256(args.out.read_bytes()).hexdigest())


if __name__ == "__main__":
    main()
