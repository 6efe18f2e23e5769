import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import type { CursorStore } from "./CursorTracker";

/** The cursor in an SSM parameter (String, overwritten in place); the task role may touch only this one. */
export class SsmCursorStore implements CursorStore {
  constructor(
    private readonly client: Pick<SSMClient, "send">,
    private readonly name: string,
    private readonly timeoutMs: number,
  ) {}

  get description(): string {
    return `SSM parameter ${this.name}`;
  }

  async load(): Promise<string | undefined> {
    try {
      const output = await this.client.send(new GetParameterCommand({ Name: this.name }), { abortSignal: AbortSignal.timeout(this.timeoutMs) });
      return output.Parameter?.Value || undefined;
    } catch (error) {
      if (error instanceof ParameterNotFound || (error as Error).name === "ParameterNotFound") return undefined;
      throw error;
    }
  }

  async save(cursor: string): Promise<void> {
    await this.client.send(new PutParameterCommand({ Name: this.name, Value: cursor, Type: "String", Overwrite: true }), { abortSignal: AbortSignal.timeout(this.timeoutMs) });
  }
}
