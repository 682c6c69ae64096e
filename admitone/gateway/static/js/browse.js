// Browse and movie pages. The filter form is a plain GET form and works without JavaScript;
// this script only remembers the fan's city: opening the home page with no filters brings
// back the city chosen last time (choosing "All cities" forgets it).

import { localStore, readItem, writeItem } from "./lib/storage.js";

const KEY = "browse:city";

function remembered() {
  return readItem(KEY, localStore());
}

function remember(city) {
  writeItem(KEY, city || null, localStore()); // storage off: nothing to remember
}

const params = new URLSearchParams(window.location.search);
if (params.has("city")) {
  remember(params.get("city"));
}

const picker = document.getElementById("filter-city");
if (picker) {
  picker.form.addEventListener("submit", () => remember(picker.value));
  const city = remembered();
  const known = city && [...picker.options].some((option) => option.value === city);
  const bare = window.location.pathname === "/" && [...params.keys()].every((key) => key === "lang");
  if (known && bare && picker.value !== city) {
    params.set("city", city);
    window.location.replace(`/?${params.toString()}`);
  }
}
