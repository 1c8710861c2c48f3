(function () {
  "use strict";
  var me = document.currentScript;
  var endpoint = me.getAttribute("data-endpoint");
  var state = {epoch: Number(me.getAttribute("data-epoch")), ok: true,
               problems: JSON.parse(me.getAttribute("data-problems") || "[]")};
  function show(problems) {
    var box = document.getElementById("digest-error-overlay");
    if (!problems.length) { if (box) { box.remove(); } return; }
    if (!box) {
      box = document.createElement("pre");
      box.id = "digest-error-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;padding:1.5rem;" +
        "background:rgba(40,0,0,.94);color:#fff;font:14px/1.5 ui-monospace,Menlo,Consolas,monospace;" +
        "white-space:pre-wrap;text-align:left";
      document.body.appendChild(box);
    }
    box.textContent = "digest serve: the last rebuild failed; the page shows the last good build.\n" +
      "Fix the file and save: this goes away by itself.\n\n" + problems.join("\n");
  }
  // A browser opens six connections at most to one server, and each poll holds one: pages
  // in hidden tabs stop polling, so that a seventh tab still loads, and catch up when shown.
  var inFlight = null;
  function poll() {
    if (inFlight || document.visibilityState === "hidden") { return; }
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var mine = controller || {};
    inFlight = mine;
    fetch(endpoint + "?epoch=" + state.epoch, {cache: "no-store", signal: controller ? controller.signal : undefined})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (next) {
        if (inFlight !== mine) { return; }  // given up while the page was hidden
        inFlight = null;
        if (next.epoch !== state.epoch && next.ok) { location.reload(); return; }
        state = next;
        show(next.problems);
        poll();
      })
      .catch(function () {
        if (inFlight !== mine) { return; }
        inFlight = null;
        setTimeout(poll, 1000);
      });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "hidden") { poll(); return; }
    var stopping = inFlight;
    inFlight = null;
    if (stopping && stopping.abort) { stopping.abort(); }
  });
  show(state.problems);
  poll();
})();
