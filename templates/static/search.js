/* Start the Pagefind UI on the search page, run the query from ?q= and keep ?q= in step. */
(function () {
  "use strict";
  var root = document.getElementById("search");
  if (!root || typeof PagefindUI === "undefined") return;
  var ui = new PagefindUI({
    element: "#search",
    baseUrl: root.getAttribute("data-base") || "/",
    showSubResults: false,
    showImages: false,
    autofocus: true,
    translations: { placeholder: root.getAttribute("data-placeholder") || "" }
  });
  var params = new URLSearchParams(window.location.search);
  var query = params.get("q");
  if (query) {
    ui.triggerSearch(query);
  }
  root.addEventListener("input", function (event) {
    var input = event.target;
    if (!input || input.tagName !== "INPUT") return;
    var url = new URL(window.location.href);
    if (input.value) {
      url.searchParams.set("q", input.value);
    } else {
      url.searchParams.delete("q");
    }
    window.history.replaceState(null, "", url.toString());
  });
})();
