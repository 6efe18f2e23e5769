import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

describe("npm run bench:http (smoke: a few hundred requests per client)", function () {
  this.timeout(20_000);

  it("prints CPU per request and requests/s for node:http and the relay's client", async () => {
    // Act
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", path.join(__dirname, "..", "..", "bench", "httpClient.ts")], {
      env: { ...process.env, BENCH_HTTP_REQUESTS: "300" },
    });

    // Assess: one row per client and round, each with measured, positive figures
    const rows = stdout.split("\n").filter((line) => /^\| (node:http|KeepAliveHttpClient)/.test(line));
    assert.equal(rows.length, 6, stdout);
    for (const row of rows) {
      const [, , cpu, rate] = row.split("|").map((cell) => cell.trim().replace(/,/g, ""));
      assert.ok(Number(cpu) > 0 && Number(rate) > 0, row);
    }
    assert.match(stdout, /300 requests each/);
  });
});
