// Review page: the reviewer's row comments exist twice, in the official grid and in the phone
// cards (templates/evaluations/_official_cards.html). Only the copy on screen is enabled, so
// only it is sent; on a change of width the typed text moves to the copy now shown.
(function () {
  "use strict";
  const phone = window.matchMedia("(max-width: 767.98px)");
  const twins = Array.from(document.querySelectorAll("textarea[data-phone-twin]"));
  if (!twins.length) {
    return;
  }
  function apply() {
    for (const card of twins) {
      const grid = document.getElementById(card.dataset.phoneTwin);
      if (!grid) {
        continue;
      }
      const from = phone.matches ? grid : card;
      const to = phone.matches ? card : grid;
      if (to.disabled) {
        to.value = from.value;
        to.disabled = false;
        from.disabled = true;
      }
    }
  }
  apply();
  phone.addEventListener("change", apply);
})();
