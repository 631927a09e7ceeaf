/* thidua: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function parsePoints(value) {
    var n = parseFloat(String(value).replace(",", "."));
    return isFinite(n) ? n : 0;
  }

  // Live total of criteria points: <output data-total-of="criteria"> sums inputs[data-points="criteria"].
  function updateTotals(root) {
    root.querySelectorAll("output[data-total-of]").forEach(function (out) {
      var group = out.getAttribute("data-total-of");
      var sum = 0;
      document.querySelectorAll('input[data-points="' + group + '"]').forEach(function (input) {
        sum += parsePoints(input.value);
      });
      var text = Number.isInteger(sum) ? String(sum) : sum.toFixed(2);
      out.value = text;
      out.textContent = text;
    });
  }

  // Repeating rows: a <template data-row-template="LIST"> cloned into #LIST, "__i__" -> next index.
  function addRow(listId) {
    var list = document.getElementById(listId);
    var tpl = document.querySelector('template[data-row-template="' + listId + '"]');
    if (!list || !tpl) { return; }
    var next = parseInt(list.getAttribute("data-next-index") || list.children.length, 10);
    var html = tpl.innerHTML.split("__i__").join(String(next)).split("__n__").join(String(next + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var node = holder.firstElementChild;
    list.appendChild(node);
    list.setAttribute("data-next-index", String(next + 1));
    var first = node.querySelector("input, textarea, select");
    if (first) { first.focus(); }
    updateTotals(document);
  }

  ready(function () {
    document.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-row]");
      if (add) {
        event.preventDefault();
        addRow(add.getAttribute("data-add-row"));
        return;
      }
      var remove = event.target.closest("[data-remove-row]");
      if (remove) {
        event.preventDefault();
        var item = remove.closest(".repeat-item");
        if (item) { item.parentNode.removeChild(item); updateTotals(document); }
      }
    });
    document.addEventListener("input", function (event) {
      if (event.target.matches("input[data-points]")) { updateTotals(document); }
    });
    // Ask before irreversible steps (forms marked data-confirm="message").
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var message = form.getAttribute("data-confirm");
      if (message && !window.confirm(message)) { event.preventDefault(); return; }
      // Prevent double submission of signing and approval forms.
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
    // Show the chosen file names next to file inputs.
    document.querySelectorAll("input[type=file][data-list-files]").forEach(function (input) {
      input.addEventListener("change", function () {
        var target = document.getElementById(input.getAttribute("data-list-files"));
        if (!target) { return; }
        var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
        target.textContent = names.join(", ");
      });
    });
    updateTotals(document);
  });
})();
