/** Values that `{{name}}` placeholders in the URL, subscribe messages and acks are filled with. */
export type TemplateValues = Readonly<Record<string, string | undefined>>;

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

/** Fills placeholders in text as they are; an unknown value becomes empty. */
export function renderText(template: string, values: TemplateValues): string {
  return template.replace(PLACEHOLDER, (_, name: string) => values[name] ?? "");
}

/** Fills placeholders in a JSON string literal context (acks): the value is JSON-escaped. */
export function renderJsonText(template: string, values: TemplateValues): string {
  return template.replace(PLACEHOLDER, (_, name: string) => JSON.stringify(values[name] ?? "").slice(1, -1));
}

/**
 * Fills placeholders in a URL, percent-encoding the values. A query parameter whose whole
 * value is a placeholder with no value (`?cursor={{cursor}}` before any cursor exists) is
 * left out rather than sent empty.
 */
export function renderUrl(template: string, values: TemplateValues): string {
  const [base, query] = splitQuery(template);
  const renderedBase = base.replace(PLACEHOLDER, (_, name: string) => encodeURIComponent(values[name] ?? ""));
  if (query === undefined) return renderedBase;
  const parts = query
    .split("&")
    .filter((part) => {
      const match = /^[^=]*=\{\{\s*(\w+)\s*\}\}$/.exec(part);
      return !match || values[match[1]!] !== undefined;
    })
    .map((part) => part.replace(PLACEHOLDER, (_, name: string) => encodeURIComponent(values[name] ?? "")));
  return parts.length > 0 ? `${renderedBase}?${parts.join("&")}` : renderedBase;
}

function splitQuery(url: string): [string, string | undefined] {
  const index = url.indexOf("?");
  return index < 0 ? [url, undefined] : [url.slice(0, index), url.slice(index + 1)];
}
