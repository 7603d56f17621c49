/**
 * Traffic Light Protocol levels of STIX markings. TLP 1.0 (STIX 2.1 §7.2.1.4)
 * and TLP 2.0 (the OASIS common objects' extension) are read as one scale;
 * WHITE and CLEAR are the same level (maturity-design.md).
 */
export const TLP_LEVELS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type TlpLevel = (typeof TLP_LEVELS)[number];

export const TLP_MARKING_IDS: Readonly<Record<string, number>> = {
  // TLP 1.0, predefined by STIX 2.1
  'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9': 0, // WHITE
  'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da': 1, // GREEN
  'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82': 2, // AMBER
  'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed': 4, // RED
  // TLP 2.0, OASIS cti-stix-common-objects
  'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487': 0, // CLEAR
  'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb': 1, // GREEN
  'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421': 2, // AMBER
  'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003': 3, // AMBER+STRICT
  'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1': 4, // RED
};

export const tlpRank = (level: TlpLevel): number => TLP_LEVELS.indexOf(level);
export const tlpName = (rank: number): TlpLevel => TLP_LEVELS[rank] ?? 'red';

/** The most restrictive TLP among marking references, or null when none is a TLP marking. */
export function tlpOfMarkings(refs: readonly string[]): number | null {
  let rank: number | null = null;
  for (const ref of refs) {
    const r = TLP_MARKING_IDS[ref];
    if (r !== undefined && (rank === null || r > rank)) rank = r;
  }
  return rank;
}
