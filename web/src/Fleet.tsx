import { memo } from "preact/compat";
import { useMemo, useState } from "preact/hooks";
import { type Filter, type Row, type SortKey, NO_FILTER, counts, groupRows } from "./fleet";
import { bitRate, celsius, level, ms, num, pct, stateClass } from "./format";
import { type Key, stateText, t } from "./i18n";
import { Sparkline } from "./Sparkline";

interface Props {
  rows: Map<string, Row>;
  groupOrder: string[];
  onOpen: (name: string) => void;
}

const COLUMNS: { key: SortKey; label: Key; cls?: string }[] = [
  { key: "name", label: "host" },
  { key: "state", label: "state" },
  { key: "cpu", label: "cpu" },
  { key: "mem", label: "memory" },
  { key: "load1", label: "load", cls: "wide" },
  { key: "disk", label: "disk" },
  { key: "rx", label: "network", cls: "wide-phone" },
  { key: "temp", label: "temperature", cls: "wide" },
  { key: "gpu", label: "gpu", cls: "wide" },
  { key: "pingMs", label: "ping", cls: "wide" },
];

const HostRow = memo(function HostRow({ row, onOpen }: { row: Row; onOpen: (name: string) => void }) {
  const state = stateClass(row.state);
  return (
    <tr class={`host s-${state}`} data-host={row.name} onClick={() => onOpen(row.name)}>
      <td class="name">
        <a href={`#/host/${encodeURIComponent(row.name)}`} onClick={(e) => e.stopPropagation()}>
          {row.name}
        </a>
        <small>{row.address ?? ""}</small>
      </td>
      <td>
        <span class={`badge ${state}`} title={row.error ?? ""}>
          {stateText(row.state)}
        </span>
      </td>
      <td class={`num ${level(row.cpu)}`}>
        <span class="val">{pct(row.cpu)}</span>
        <Sparkline points={row.sparkCpu} max={100} />
      </td>
      <td class={`num ${level(row.mem, 80, 95)}`}>
        <span class="val">{pct(row.mem)}</span>
        <Sparkline points={row.sparkMem} max={100} />
      </td>
      <td class="num wide">{num(row.load1)}</td>
      <td class={`num ${level(row.disk, 80, 90)}`} title={row.diskMount ?? ""}>
        <span class="val">{pct(row.disk, 0)}</span>
        <small>{row.diskMount ?? ""}</small>
      </td>
      <td class="num net wide-phone">
        <span class="val">
          ↓{bitRate(row.rx)} <small>↑{bitRate(row.tx)}</small>
        </span>
        <Sparkline points={row.sparkRx} />
      </td>
      <td class={`num wide ${level(row.temp, 70, 85)}`}>{celsius(row.temp)}</td>
      <td class="num wide">{pct(row.gpu, 0)}</td>
      <td class={`num wide ${row.pingLoss ? "warn" : ""}`}>
        {ms(row.pingMs)}
        {row.pingLoss ? <small> {pct(row.pingLoss, 0)}</small> : null}
      </td>
    </tr>
  );
});

export function Fleet({ rows, groupOrder, onOpen }: Props) {
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "name", desc: false });
  const all = [...rows.values()];
  const groups = groupRows(all, filter, sort.key, sort.desc, groupOrder);
  const total = counts(all);
  const { groupNames, tags, states } = useMemo(() => {
    const g = new Set<string>();
    const tg = new Set<string>();
    const st = new Set<string>();
    for (const r of rows.values()) {
      r.groups.forEach((x) => g.add(x));
      r.tags.forEach((x) => tg.add(x));
      st.add(r.state);
    }
    return { groupNames: [...g].sort(), tags: [...tg].sort(), states: [...st].sort() };
  }, [rows]);

  const set = (patch: Partial<Filter>) => setFilter({ ...filter, ...patch });
  const sortBy = (key: SortKey) =>
    setSort(sort.key === key ? { key, desc: !sort.desc } : { key, desc: key !== "name" && key !== "state" });

  return (
    <section class="fleet">
      <div class="toolbar">
        <span class="summary">
          <b class="ok">{total.up}</b> {stateText("up")} · <b class={total.down ? "bad" : ""}>{total.down}</b> {t("down")} ·{" "}
          <b class="idle">{total.pending}</b> {stateText("pending")} · {all.length} {t("hosts")}
        </span>
        <input
          type="search"
          placeholder={t("search")}
          aria-label={t("search")}
          value={filter.query}
          onInput={(e) => set({ query: e.currentTarget.value })}
        />
        <select aria-label={t("group")} value={filter.group} onChange={(e) => set({ group: e.currentTarget.value })}>
          <option value="">{t("allGroups")}</option>
          {groupNames.map((g) => (
            <option value={g}>{g}</option>
          ))}
        </select>
        <select aria-label={t("state")} value={filter.state} onChange={(e) => set({ state: e.currentTarget.value })}>
          <option value="">{t("allStates")}</option>
          <option value="down">{t("downAny")}</option>
          {states.map((s) => (
            <option value={s}>{stateText(s)}</option>
          ))}
        </select>
        {tags.length > 0 && (
          <select aria-label="tag" value={filter.tag} onChange={(e) => set({ tag: e.currentTarget.value })}>
            <option value="">{t("allTags")}</option>
            {tags.map((g) => (
              <option value={g}>{g}</option>
            ))}
          </select>
        )}
      </div>
      <table class="hosts">
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th
                class={`col-${c.key} ${c.cls ?? ""} ${sort.key === c.key ? (sort.desc ? "desc" : "asc") : ""}`}
                onClick={() => sortBy(c.key)}
                scope="col"
              >
                {t(c.label)}
              </th>
            ))}
          </tr>
        </thead>
        {groups.map((group) => (
          <tbody key={group.name}>
            <tr class="group">
              <th colSpan={COLUMNS.length}>
                {group.name || t("ungrouped")} <small>{group.rows.length}</small>
              </th>
            </tr>
            {group.rows.map((row) => (
              <HostRow key={row.name} row={row} onOpen={onOpen} />
            ))}
          </tbody>
        ))}
      </table>
    </section>
  );
}
