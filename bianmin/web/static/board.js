// The board: the latest plan's routes on a map (no tiles: works offline), job progress.
(function () {
  "use strict";
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
                "#e377c2", "#7f7f7f", "#bcbd22"];
  var el = document.getElementById("map");
  if (el && window.L) {
    var map = L.map(el, {preferCanvas: true}).setView([30.65, 104.06], 12);
    fetch(el.dataset.plan, {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (plan) {
      if (!plan) return;
      var bounds = [];
      plan.routes.forEach(function (route, i) {
        var pts = route.stops.map(function (s) { return [s.lat, s.lon]; });
        if (!pts.length) return;
        var color = COLORS[i % COLORS.length];
        L.polyline(pts, {color: color, weight: 3}).addTo(map)
          .bindTooltip(String(route.runner_id));
        route.stops.forEach(function (s) {
          L.circleMarker([s.lat, s.lon], {radius: 5, color: color, fillOpacity: 0.8})
            .addTo(map).bindTooltip(route.runner_id + " #" + s.order + " " + s.errand_id);
        });
        bounds = bounds.concat(pts);
      });
      if (bounds.length) map.fitBounds(bounds, {padding: [20, 20]});
    });
  }
  var box = document.getElementById("job");
  if (!box || !box.dataset.job) return;
  box.hidden = false;
  var bar = box.querySelector("progress"), step = box.querySelector(".step");
  var err = box.querySelector(".error"), list = box.querySelector(".problems");
  function poll() {
    fetch("/api/jobs/" + encodeURIComponent(box.dataset.job), {credentials: "same-origin"})
      .then(function (r) { return r.json(); }).then(function (j) {
        bar.value = j.fraction || 0;
        step.textContent = (j.step || j.state) + " · " + j.elapsed_s + " s";
        if (j.state === "done") {
          box.dataset.state = "done";
          var u = new URL(window.location.href);
          u.searchParams.delete("job");
          window.location.replace(u.toString());
        } else if (j.state === "error") {
          box.dataset.state = "error";
          err.textContent = j.error;
          (j.problems || []).forEach(function (p) {
            var li = document.createElement("li");
            li.textContent = [p.file, p.row, p.column, p.message].filter(function (x) {
              return x !== null && x !== "";
            }).join(" · ");
            list.appendChild(li);
          });
        } else {
          setTimeout(poll, 700);
        }
      });
  }
  poll();
})();
