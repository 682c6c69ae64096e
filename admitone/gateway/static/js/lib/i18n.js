// The page's config and its strings: every page's script reads the JSON config the server
// rendered into the page and translates with the strings in it (`config.strings`, in the page's
// language, `config.language` and `config.locale` beside them).

/** The page's JSON config (`<script type="application/json" id=...>`); {} if it is missing. */
export function readConfig(id = "page-config") {
  const node = document.getElementById(id);
  try {
    return JSON.parse(node ? node.textContent : "{}");
  } catch {
    return {};
  }
}

/** CLDR cardinal category for whole numbers, the server's rule: Hindi treats 0 and 1 as "one". */
function pluralCategory(language, count) {
  if (language === "hi") {
    return count === 0 || count === 1 ? "one" : "other";
  }
  return count === 1 ? "one" : "other";
}

/**
 * The page's translator: `t(key, params)` is the string `key` with its `{name}` placeholders
 * filled (the key itself when the string is missing; unknown placeholders stay as written);
 * `t.plural(key, count, params)` picks `<key>.one` or `<key>.other` (else `<key>.other`) with
 * `{n}` the count in the page's locale; `t.number(value)` formats a whole number.
 */
export function translator(config) {
  const strings = config.strings || {};
  let numbers = null;
  try {
    numbers = new Intl.NumberFormat(config.locale, { maximumFractionDigits: 0 });
  } catch {
    numbers = null;
  }
  const t = (key, params = {}) => {
    const template = strings[key];
    if (typeof template !== "string") {
      return key;
    }
    return template.replace(/\{([a-z_]+)\}/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole);
  };
  t.number = (value) => (numbers ? numbers.format(value) : String(value));
  t.plural = (key, count, params = {}) => {
    const category = pluralCategory(config.language, count);
    const chosen = typeof strings[`${key}.${category}`] === "string" ? category : "other";
    return t(`${key}.${chosen}`, { n: t.number(count), ...params });
  };
  return t;
}
