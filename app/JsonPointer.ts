/** An RFC 6901 JSON pointer (`/product_id`, `/a~1b/0`), parsed once and resolved per frame. */
export class JsonPointer {
  private constructor(
    readonly text: string,
    private readonly tokens: readonly string[],
  ) {}

  static parse(text: string): JsonPointer {
    if (text === "") return new JsonPointer(text, []);
    if (!text.startsWith("/")) throw new Error("a JSON pointer starts with /");
    const tokens = text
      .slice(1)
      .split("/")
      .map((token) => {
        if (/~[^01]|~$/.test(token)) throw new Error(`bad escape in ${JSON.stringify(token)}: only ~0 and ~1 are allowed`);
        return token.replace(/~1/g, "/").replace(/~0/g, "~");
      });
    return new JsonPointer(text, tokens);
  }

  /** The value at this pointer, or undefined when the document has no such member. */
  resolve(document: unknown): unknown {
    let current = document;
    for (const token of this.tokens) {
      if (Array.isArray(current)) {
        if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
        current = current[Number(token)];
      } else if (current !== null && typeof current === "object" && Object.prototype.hasOwnProperty.call(current, token)) {
        current = (current as Record<string, unknown>)[token];
      } else {
        return undefined;
      }
    }
    return current;
  }
}
