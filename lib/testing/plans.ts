// Plans as PostgreSQL ran them (auto_explain's JSON, sent to the test's session as a notice), for
// tests that hold a statement's plan to the work it is asked for.

export type PlanNode = {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Alias?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  Plans?: PlanNode[];
};

/** The nodes of a plan run at least `rows` times, once per row of a batch that size (but a Result, which costs nothing). */
export function nodesRunPerRow(node: PlanNode, rows: number): string[] {
  const own = (node["Actual Loops"] ?? 1) >= rows && node["Node Type"] !== "Result" ? [`${node["Node Type"]} ${node["Relation Name"] ?? node.Alias ?? ""}`] : [];
  return [...own, ...(node.Plans ?? []).flatMap((child) => nodesRunPerRow(child, rows))];
}
