// hookhub console: the little behaviour the pages need beyond plain forms
// and htmx. Served as a file (the Content-Security-Policy allows no inline
// script). Every form works without it.
(function () {
  "use strict";

  function each(root, sel, fn) {
    Array.prototype.forEach.call(root.querySelectorAll(sel), fn);
  }

  // Authentication: show the fields of the chosen kind only.
  function setupAuth(form) {
    var box = form.querySelector("[data-auth]");
    if (!box) return;
    function update() {
      var chosen = box.querySelector("input[name=auth_type]:checked");
      var kind = chosen ? chosen.value : "none";
      each(box, "[data-auth-for]", function (el) {
        el.hidden = el.getAttribute("data-auth-for") !== kind;
      });
    }
    each(box, "input[name=auth_type]", function (r) { r.addEventListener("change", update); });
    update();
  }

  // "+ add header": a new empty row like the last one.
  function setupHeaders(form) {
    var add = form.querySelector("[data-add-header]");
    var rows = form.querySelector("[data-header-rows]");
    if (!add || !rows) return;
    var n = rows.children.length;
    add.addEventListener("click", function () {
      var last = rows.lastElementChild;
      if (!last) return;
      var row = last.cloneNode(true);
      each(row, "input", function (input) {
        input.value = "";
        input.placeholder = input.name === "header_name" ? "X-Header" : "value";
        input.id = input.name.replace("_", "-") + "-" + n;
      });
      each(row, "label", function (label) {
        var input = label.nextElementSibling;
        if (input) label.htmlFor = input.id;
      });
      n++;
      rows.appendChild(row);
      row.querySelector("input").focus();
    });
  }

  // The event picker: a category's box checks all of its events, shows
  // mixed when some are, and the search box hides the events that do not
  // match.
  function setupCategory(cat) {
    var all = cat.querySelector("[data-category-all]");
    var boxes = cat.querySelectorAll("input[name=events]");
    function sync() {
      var on = 0;
      Array.prototype.forEach.call(boxes, function (b) { if (b.checked) on++; });
      all.checked = on === boxes.length;
      all.indeterminate = on > 0 && on < boxes.length;
    }
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(boxes, function (b) { b.checked = all.checked; });
      all.indeterminate = false;
    });
    Array.prototype.forEach.call(boxes, function (b) { b.addEventListener("change", sync); });
    sync();
  }

  // A new webhook's account, changed: the picker gets that account's event
  // types from the server's own form for it (without script, the form's
  // links to each account's form do the same). What was checked stays
  // checked where the new account has it too.
  function setupAccountTypes(form, picker, search) {
    var account = form.querySelector("#account");
    var cats = picker.querySelector("[data-categories]");
    if (!account || !cats || !window.fetch || !window.DOMParser) return;
    var asked = 0;
    account.addEventListener("change", function () {
      var n = ++asked;
      fetch("/console/webhooks/new?account=" + encodeURIComponent(account.value.trim()), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          if (n !== asked) return; // a later change is on its way
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector("[data-categories]");
          if (!fresh) return;
          var on = {};
          each(cats, "input[name=events]:checked, input[name=category]:checked", function (b) { on[b.name + " " + b.value] = true; });
          cats.innerHTML = fresh.innerHTML;
          each(cats, "input[name=events], input[name=category]", function (b) { b.checked = !!on[b.name + " " + b.value]; });
          each(cats, "[data-category]", setupCategory);
          ["#events-help", "[data-types-of]"].forEach(function (sel) {
            var mine = form.querySelector(sel), theirs = doc.querySelector(sel);
            if (mine && theirs) mine.textContent = theirs.textContent;
          });
          if (search) search.dispatchEvent(new Event("input"));
        })
        .catch(function () { /* the links to each account's form still work */ });
    });
  }

  function setupPicker(form) {
    var picker = form.querySelector("[data-picker]");
    if (!picker) return;
    each(picker, "[data-category]", setupCategory);
    var search = picker.querySelector("[data-event-search]");
    setupAccountTypes(form, picker, search);
    if (search) {
      search.addEventListener("input", function () {
        var q = search.value.trim().toLowerCase();
        each(picker, "[data-category]", function (cat) {
          var shown = 0;
          each(cat, "[data-event]", function (li) {
            var hit = q === "" || li.getAttribute("data-event").toLowerCase().indexOf(q) >= 0;
            li.hidden = !hit;
            if (hit) shown++;
          });
          cat.hidden = shown === 0;
        });
      });
    }
  }

  // The Test screen: choosing another type loads its sample (the
  // "Use its sample" button, which works without this too).
  function setupAutoload(select) {
    var button = document.getElementById(select.getAttribute("data-autoload"));
    if (!button) return;
    select.addEventListener("change", function () { button.click(); });
  }

  // A sign-in link's page: its button redeems the link (a POST). Inside a
  // frame (a platform's settings page) it is pressed at once; a console
  // link printed by the demo (data-enter="always") too. Opened at the top
  // level from elsewhere, the person presses it: a link previewer, which
  // only GETs, spends nothing.
  function setupEnter(form) {
    var mode = form.getAttribute("data-enter"), framed;
    try { framed = window.self !== window.top; } catch (e) { framed = true; }
    if (mode === "always" || (mode === "framed" && framed)) form.submit();
  }

  document.addEventListener("DOMContentLoaded", function () {
    each(document, "select[data-autoload]", setupAutoload);
    each(document, "form[data-enter]", setupEnter);
    each(document, "form.webhook-form", function (form) {
      setupAuth(form);
      setupHeaders(form);
      setupPicker(form);
    });
  });
})();

// The operator's egress screen: "Copy" puts a field's text on the
// clipboard (without script, or without a clipboard, the text is selected
// for the reader to copy).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (btn) {
      var field = document.getElementById(btn.getAttribute("data-copy"));
      var status = btn.parentNode.querySelector("[data-copy-status]");
      if (!field) return;
      btn.addEventListener("click", function () {
        field.focus();
        field.select();
        function said(msg) { if (status) status.textContent = msg; }
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(field.value).then(function () { said("Copied."); },
            function () { said("Selected: press Ctrl+C (or ⌘C) to copy."); });
        } else {
          said("Selected: press Ctrl+C (or ⌘C) to copy.");
        }
      });
    });
  });
})();
