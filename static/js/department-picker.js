/*
 * The searchable department picker (templates/includes/department_picker.html).
 *
 * Progressive enhancement of <select data-department-picker>: without this script the page
 * keeps the plain select, which submits the same parameter. With it, the select is hidden
 * (it still holds the value the form submits) and a combobox takes its place (the ARIA 1.2
 * "combobox with listbox popup" pattern): typing part of a department's name filters the
 * options; ↓ / ↑ move through them, Enter or a click picks one, Esc closes the list and
 * restores the chosen name, and emptying the box picks the select's empty option (全部部门).
 * Names are matched anywhere, so "财政" finds "昌吉回族自治州财政局"; a department's code
 * (部门编码) stands in front of its name in the option, so typing the code finds it too.
 * A polite live region says how many match.
 * Our own small script rather than a vendored library: a few dozen lines cover the need and
 * keep the page free of third-party code and styles.
 */
(function () {
  "use strict";

  var counter = 0;

  function fold(text) {
    return (text || "").toLocaleLowerCase().replace(/\s+/g, "");
  }

  function enhance(select) {
    if (select.dataset.pickerReady) return;
    select.dataset.pickerReady = "1";
    counter += 1;
    var base = (select.id || "department-picker-" + counter);
    var listId = base + "-listbox";
    var small = select.classList.contains("form-select-sm");

    var wrapper = document.createElement("div");
    wrapper.className = "department-picker position-relative";

    var input = document.createElement("input");
    input.type = "text";
    input.id = base + "-search";
    input.className = "form-control" + (small ? " form-control-sm" : "") +
      (select.classList.contains("is-invalid") ? " is-invalid" : "");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");
    input.setAttribute("spellcheck", "false");
    input.placeholder = select.dataset.pickerPlaceholder || "";
    if (select.required) input.required = true;
    // An invalid choice stays announced on the box that replaces the select.
    ["aria-invalid", "aria-describedby"].forEach(function (name) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    });

    var list = document.createElement("ul");
    list.id = listId;
    list.className = "list-group position-absolute w-100 shadow-sm overflow-auto department-picker-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    list.style.zIndex = "1050";
    list.style.maxHeight = "18rem";
    list.style.minWidth = "16rem";

    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");

    // The select's label now names the box a keyboard user types into.
    var label = select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
    if (label) {
      if (!label.id) label.id = base + "-label";
      label.htmlFor = input.id;
      list.setAttribute("aria-labelledby", label.id);
    } else if (select.getAttribute("aria-label")) {
      input.setAttribute("aria-label", select.getAttribute("aria-label"));
      list.setAttribute("aria-label", select.getAttribute("aria-label"));
    }

    select.hidden = true;
    select.tabIndex = -1;
    select.parentNode.insertBefore(wrapper, select);
    wrapper.appendChild(input);
    wrapper.appendChild(list);
    wrapper.appendChild(status);
    wrapper.appendChild(select);

    var options = Array.prototype.map.call(select.options, function (option) {
      return { value: option.value, text: option.text, key: fold(option.text) };
    });
    var emptyOption = options.filter(function (o) { return o.value === ""; })[0];
    var matches = [];
    var active = -1;

    function chosenText() {
      var option = select.options[select.selectedIndex];
      return option && option.value !== "" ? option.text : "";
    }

    function setActive(index) {
      var items = list.children;
      if (active >= 0 && items[active]) {
        items[active].classList.remove("active");
        items[active].setAttribute("aria-selected", "false");
      }
      active = index;
      if (active >= 0 && items[active]) {
        items[active].classList.add("active");
        items[active].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", items[active].id);
        items[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open(query) {
      var key = fold(query);
      matches = options.filter(function (o) {
        return o.value !== "" && (!key || o.key.indexOf(key) !== -1);
      });
      list.textContent = "";
      matches.forEach(function (o, index) {
        var item = document.createElement("li");
        item.id = base + "-option-" + index;
        item.className = "list-group-item list-group-item-action py-1 small";
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.dataset.value = o.value;
        item.textContent = o.text;
        item.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the box
          choose(o);
        });
        list.appendChild(item);
      });
      if (!matches.length) {
        var none = document.createElement("li");
        none.className = "list-group-item py-1 small text-secondary";
        none.textContent = select.dataset.pickerNone || "";
        list.appendChild(none);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
      setActive(matches.length && key ? 0 : -1);
      status.textContent = matches.length
        ? (select.dataset.pickerCount || "%(n)s").replace("%(n)s", matches.length)
        : (select.dataset.pickerNone || "");
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function choose(option) {
      var changed = select.value !== option.value;
      select.value = option.value;
      input.value = option.value === "" ? "" : option.text;
      close();
      if (changed) select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    // On leaving the box: an emptied box means the empty choice; anything else typed but
    // not picked gives way to the chosen name again.
    function settle() {
      if (input.value.trim() === "" && emptyOption) {
        choose(emptyOption);
      } else {
        input.value = chosenText();
        close();
      }
    }

    input.value = chosenText();

    input.addEventListener("input", function () { open(input.value); });
    input.addEventListener("click", function () {
      if (list.hidden) open("");
    });
    input.addEventListener("keydown", function (event) {
      var expanded = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "Down") {
        event.preventDefault();
        if (!expanded) open(input.value === chosenText() ? "" : input.value);
        else if (matches.length) setActive(Math.min(active + 1, matches.length - 1));
      } else if (event.key === "ArrowUp" || event.key === "Up") {
        event.preventDefault();
        if (expanded && matches.length) setActive(Math.max(active - 1, 0));
      } else if (event.key === "Enter") {
        if (expanded && active >= 0) {
          event.preventDefault();
          choose(matches[active]);
        } else if (expanded) {
          event.preventDefault();
          settle();
        }
        // Closed: Enter submits the form as in any search box.
      } else if (event.key === "Escape" || event.key === "Esc") {
        if (expanded) {
          event.preventDefault();
          input.value = chosenText();
          close();
        }
      } else if (event.key === "Tab") {
        if (expanded && active >= 0 && input.value !== chosenText()) choose(matches[active]);
        else settle();
      }
    });
    input.addEventListener("blur", function () {
      if (!list.hidden || input.value !== chosenText()) settle();
    });
    select.form && select.form.addEventListener("submit", function () {
      if (input.value.trim() === "" && emptyOption) select.value = "";
    });
  }

  function start() {
    document.querySelectorAll("select[data-department-picker]").forEach(enhance);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
