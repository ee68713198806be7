// Optional: filter the runs by name/code and severity. The report reads the same without it.
(function () {
  var box = document.querySelector(".filter"), text = document.getElementById("run-filter"),
      sev = document.getElementById("sev-filter"), out = document.getElementById("filter-count");
  if (!box || !text || !sev) return;
  box.hidden = false;
  var rank = {ok: 0, info: 1, warning: 2, error: 3};
  function apply() {
    var q = text.value.toLowerCase(), min = +sev.value, shown = 0, all = 0;
    document.querySelectorAll("[data-run]").forEach(function (el) {
      var hay = (el.getAttribute("data-run") + " " + (el.getAttribute("data-codes") || "")).toLowerCase();
      var ok = hay.indexOf(q) >= 0 && rank[el.getAttribute("data-worst")] >= min;
      el.hidden = !ok;
      if (el.tagName === "TR") { all++; if (ok) shown++; }
    });
    out.textContent = shown + " of " + all + " runs";
  }
  text.addEventListener("input", apply);
  sev.addEventListener("change", apply);
})();
