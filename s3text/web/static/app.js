// s3text review pages: draw the charts whose plotly specs the page carries as JSON (never as
// script), and submit the queue filters when a select changes. Without plotly the tables remain.
(function () {
  "use strict";

  function drawCharts() {
    if (!window.Plotly) { return; }
    var specs = document.querySelectorAll('script[type="application/json"][data-chart]');
    Array.prototype.forEach.call(specs, function (node) {
      var target = document.getElementById(node.getAttribute("data-chart"));
      if (!target) { return; }
      var figure;
      try { figure = JSON.parse(node.textContent); } catch (e) { return; }
      window.Plotly.newPlot(target, figure.data, figure.layout, { displaylogo: false, responsive: true })
        .then(function () { target.setAttribute("data-drawn", "true"); });
    });
  }

  function autoSubmitFilters() {
    var form = document.getElementById("filters");
    if (!form) { return; }
    Array.prototype.forEach.call(form.querySelectorAll("select"), function (select) {
      select.addEventListener("change", function () { form.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    autoSubmitFilters();
  });
})();
