import { Dashboard, Panel, RowPanel } from "@grafana/grafana-foundation-sdk/dashboard";
import { CADVISOR_METRICS } from "./queries";

export interface PanelQueries {
  id: number | undefined;
  title: string;
  type: string;
  exprs: string[];
  /** true when every query reads only the web API's own metrics (no cAdvisor series). */
  fromApp: boolean;
}

function isRow(panel: Panel | RowPanel): panel is RowPanel {
  return panel.type === "row";
}

/** Every visualisation panel of a dashboard JSON model (rows and their collapsed children included) with its PromQL. */
export function panelQueries(dashboard: Dashboard): PanelQueries[] {
  const panels: Panel[] = [];
  for (const panel of dashboard.panels ?? []) {
    if (isRow(panel)) panels.push(...(panel.panels ?? []));
    else panels.push(panel);
  }
  return panels.map((panel) => {
    const exprs = (panel.targets ?? []).map((target) => String((target as { expr?: unknown }).expr ?? ""));
    const cadvisorMetrics = Object.values(CADVISOR_METRICS);
    return {
      id: panel.id,
      title: panel.title ?? "",
      type: panel.type,
      exprs,
      fromApp: exprs.every((expr) => !cadvisorMetrics.some((metric) => expr.includes(metric))),
    };
  });
}
