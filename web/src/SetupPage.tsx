// Setup (issue 19): hosts, SNMP gear, groups, subnets, discovered addresses, users & tokens and
// settings for admins; "my sessions" for everyone. Tabs a viewer or operator may not use are
// not shown (the server refuses them too).

import { InventoryTab, TAB_LABEL } from "./SetupInventory";
import { SessionsTab, UsersTab } from "./SetupAccounts";
import { DiscoveredTab, SettingsTab } from "./SetupOther";
import { type SetupKey, st } from "./setupText";
import "./setup.css";

const ADMIN_TABS: [string, SetupKey][] = [
  ["hosts", TAB_LABEL.hosts],
  ["snmp", TAB_LABEL.snmp],
  ["groups", TAB_LABEL.groups],
  ["subnets", TAB_LABEL.subnets],
  ["discovered", "tabDiscovered"],
  ["users", "tabUsers"],
  ["settings", "tabSettings"],
];

export function SetupPage({ tab, role, user }: { tab: string; role: string; user: string }) {
  const admin = role === "admin";
  const tabs: [string, SetupKey][] = admin ? [...ADMIN_TABS, ["sessions", "tabSessions"]] : [["sessions", "tabSessions"]];
  const current = tabs.some(([name]) => name === tab) ? tab : tabs[0][0];
  let body;
  if (current === "hosts" || current === "snmp" || current === "groups" || current === "subnets")
    body = <InventoryTab key={current} section={current} />;
  else if (current === "discovered") body = <DiscoveredTab />;
  else if (current === "users") body = <UsersTab me={user} />;
  else if (current === "settings") body = <SettingsTab />;
  else body = <SessionsTab />;
  return (
    <section class="setup-page" data-tab={current}>
      <div class="toolbar">
        <h2>{st("setup")}</h2>
        <nav class="tabs">
          {tabs.map(([name, label]) => (
            <a key={name} href={`#/setup?tab=${name}`} id={`tab-${name}`} class={name === current ? "on" : ""}>
              {st(label)}
            </a>
          ))}
        </nav>
      </div>
      {body}
    </section>
  );
}
