import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CursorStore } from "./CursorTracker";

/** The cursor in a local file (local mode); written atomically so a crash never leaves half a value. */
export class FileCursorStore implements CursorStore {
  constructor(private readonly file: string) {}

  get description(): string {
    return `file ${this.file}`;
  }

  async load(): Promise<string | undefined> {
    try {
      const text = (await readFile(this.file, "utf8")).trim();
      return text === "" ? undefined : text;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async save(cursor: string): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    await writeFile(temporary, `${cursor}\n`);
    await rename(temporary, this.file);
  }
}
