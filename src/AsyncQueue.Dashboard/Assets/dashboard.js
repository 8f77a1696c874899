// AsyncQueue dashboard: refreshes the queue counts and draws each queue's throughput chart from {dashboard}/api/queues,
// and asks before a destructive action. Served from the assembly, no build step; the page has no inline script.
(function () {
  "use strict";
  var base = document.body.getAttribute("data-base") || "";
  var svgNs = "http://www.w3.org/2000/svg";

  // Forms marked data-confirm ask first (purge, delete, cancel).
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  var charts = document.querySelectorAll("svg[data-chart]");
  if (charts.length === 0) {
    return;
  }

  function format(n) {
    return Number(n).toLocaleString("en-US");
  }

  function setField(row, field, text) {
    var cell = row.querySelector("[data-field='" + field + "']");
    if (!cell) {
      return;
    }
    var target = cell.querySelector("a") || cell;
    if (target.textContent !== text) {
      target.textContent = text;
    }
  }

  function line(values, max, cssClass) {
    var width = 240, height = 40, step = width / (values.length - 1);
    var points = values.map(function (v, i) {
      return (i * step).toFixed(1) + "," + (height - 2 - (v / max) * (height - 12)).toFixed(1);
    });
    var polyline = document.createElementNS(svgNs, "polyline");
    polyline.setAttribute("class", cssClass);
    polyline.setAttribute("points", points.join(" "));
    return polyline;
  }

  function draw(svg, queue) {
    var max = Math.max(1, Math.max.apply(null, queue.succeededPerSecond), Math.max.apply(null, queue.failedPerSecond));
    while (svg.firstChild) {
      svg.removeChild(svg.firstChild);
    }
    // Failures first, so where both are flat the succeeded line is the one on top.
    svg.appendChild(line(queue.failedPerSecond, max, "failed"));
    svg.appendChild(line(queue.succeededPerSecond, max, "succeeded"));
    var label = document.createElementNS(svgNs, "text");
    label.setAttribute("x", "2");
    label.setAttribute("y", "9");
    label.textContent = "max " + format(max) + "/s";
    svg.appendChild(label);
  }

  function refresh() {
    fetch(base + "/api/queues", { headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (queues) {
        queues.forEach(function (queue) {
          var row = Array.prototype.find.call(document.querySelectorAll("tr[data-queue]"), function (r) { return r.getAttribute("data-queue") === queue.queue; });
          if (row) {
            setField(row, "waiting", format(queue.waiting));
            setField(row, "scheduled", format(queue.scheduled));
            setField(row, "running", format(queue.running));
            setField(row, "succeeded", format(queue.succeeded));
            setField(row, "deadLettered", format(queue.deadLettered));
            setField(row, "state", queue.paused ? "Paused" : "Active");
            var state = row.querySelector("[data-field='state']");
            if (state) {
              state.setAttribute("class", queue.paused ? "paused" : "active");
            }
          }
          var svg = Array.prototype.find.call(charts, function (c) { return c.getAttribute("data-chart") === queue.queue; });
          if (svg) {
            draw(svg, queue);
          }
        });
        document.body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { /* the next refresh tries again */ })
      .then(function () { window.setTimeout(refresh, 2000); });
  }

  refresh();
})();
