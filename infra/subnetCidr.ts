/** The `index`-th subnet of `vpcCidr` with `newBits` more prefix bits (like Terraform's cidrsubnet). */
export function subnetCidr(vpcCidr: string, newBits: number, index: number): string {
  const [address, prefixText] = vpcCidr.split("/");
  const prefix = Number(prefixText);
  const subnetPrefix = prefix + newBits;
  if (subnetPrefix > 28) throw new RangeError(`${vpcCidr} has no room for /${subnetPrefix} subnets (AWS minimum /28)`);
  if (index < 0 || index >= 2 ** newBits) throw new RangeError(`${vpcCidr} holds ${2 ** newBits} /${subnetPrefix} subnets, not ${index + 1}`);
  const base = address!.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const network = base - (base % 2 ** (32 - prefix));
  const start = network + index * 2 ** (32 - subnetPrefix);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
  return `${octets.join(".")}/${subnetPrefix}`;
}
