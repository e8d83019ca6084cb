/** What doctor found: lines for stdout, and what is wrong (problems fail the run, warnings do not). */
export interface DoctorReport {
  found: string[];
  problems: string[];
  warnings: string[];
}

export function emptyReport(): DoctorReport {
  return { found: [], problems: [], warnings: [] };
}
