import assert from "node:assert/strict";
import { subnetCidr } from "../../infra/subnetCidr";

describe("subnetCidr", () => {
  it("carves consecutive subnets out of the VPC range", () => {
    assert.deepEqual([0, 1, 2].map((index) => subnetCidr("10.20.0.0/16", 4, index)), ["10.20.0.0/20", "10.20.16.0/20", "10.20.32.0/20"]);
    assert.equal(subnetCidr("192.168.4.0/24", 4, 15), "192.168.4.240/28");
  });

  it("refuses subnets that do not fit", () => {
    assert.throws(() => subnetCidr("10.0.0.0/16", 4, 16), /holds 16 \/20 subnets, not 17/);
    assert.throws(() => subnetCidr("10.0.0.0/26", 4, 0), /no room for \/30 subnets/);
  });
});
