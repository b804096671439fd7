/* The status page's live refresh: reads /status every 2 seconds and
 * rebuilds the table. Every value goes into the page as text
 * (textContent), never as markup, so a plugin's error text shows as it is.
 * Without JavaScript the server-rendered table reloads by itself. */
"use strict";

(function () {
  var PERIOD_MS = 2000;
  var refreshes = 0;

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function num(n) {
    return Number(n).toLocaleString("en-US");
  }

  function rate(n) {
    return Number(n).toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  }

  function seconds(s) {
    if (s === undefined || s === null) return "\u2014";
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.floor(s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }

  function lag(t) {
    if (t.consumer_lag !== undefined) return num(t.consumer_lag) + " records";
    if (t.lag_seconds !== undefined) return seconds(t.lag_seconds);
    return "\u2014";
  }

  function row(pipeline, t) {
    var tr = el("tr");
    var records = t.records || {};
    var delivered = records.delivered !== undefined ? records.delivered : records.out;
    var r = t.rate || {};
    tr.setAttribute("data-pipeline", pipeline);
    tr.setAttribute("data-task", String(t.task));
    tr.appendChild(el("td", "pipeline", pipeline));
    tr.appendChild(el("td", "task num", t.task));
    var state = el("td", "state-cell");
    state.appendChild(el("span", "state state-" + String(t.state).replace(/[^a-z]/g, ""), t.state));
    tr.appendChild(state);
    tr.appendChild(el("td", "records num", num(delivered)));
    tr.appendChild(el("td", "rate num", rate(r.records_per_second || 0)));
    tr.appendChild(el("td", "spark", r.sparkline || ""));
    tr.appendChild(el("td", "lag num", lag(t)));
    tr.appendChild(el("td", "checkpoint num", t.last_checkpoint ? seconds(t.last_checkpoint.age_seconds) : "never"));
    tr.appendChild(el("td", "dead num", num(records.dead_lettered || 0)));
    tr.appendChild(el("td", "restarts num", num(t.restarts || 0)));
    tr.appendChild(el("td", "due num", t.objects_due !== undefined ? num(t.objects_due) : "\u2014"));
    tr.appendChild(el("td", "error", t.last_error || ""));
    return tr;
  }

  function render(status) {
    var body = document.getElementById("rows");
    var fresh = document.createElement("tbody");
    fresh.id = "rows";
    (status.pipelines || []).forEach(function (p) {
      (p.tasks || []).forEach(function (t) {
        fresh.appendChild(row(p.name, t));
      });
    });
    body.parentNode.replaceChild(fresh, body);
    document.getElementById("version").textContent = status.version;
    document.getElementById("ready").textContent = status.draining ? "draining" : status.ready ? "ready" : "not ready";
    document.getElementById("updated").textContent = status.time;
    document.getElementById("live").textContent = "live";
    refreshes++;
    document.body.setAttribute("data-refreshes", String(refreshes));
  }

  function refresh() {
    fetch("/status", { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(render)
      .catch(function (err) {
        document.getElementById("live").textContent = "not updating: " + err.message;
      })
      .then(function () {
        setTimeout(refresh, PERIOD_MS);
      });
  }

  document.addEventListener("DOMContentLoaded", refresh);
})();
