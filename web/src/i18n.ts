// UI text. English is complete; a key missing in another language falls back to English.
// To add or fix Korean, edit ``ko`` below (the owner's language); nothing else changes.

const en = {
  appTitle: "MIRROR STAGE",
  signIn: "Sign in",
  signingIn: "Signing in…",
  user: "User",
  password: "Password",
  code: "6-digit code",
  codeHint: "from your authenticator app",
  signOut: "Sign out",
  linkFailed: "That login link was already used or has expired. Sign in with your code.",
  fleet: "Fleet",
  hosts: "hosts",
  search: "Search name or address",
  allGroups: "All groups",
  allStates: "All states",
  allTags: "All tags",
  group: "Group",
  ungrouped: "(no group)",
  host: "Host",
  state: "State",
  cpu: "CPU",
  memory: "Memory",
  load: "Load",
  disk: "Disk",
  network: "Network",
  temperature: "Temp",
  gpu: "GPU",
  ping: "Ping",
  updated: "Updated",
  live: "live",
  connecting: "connecting…",
  offline: "offline — retrying",
  back: "Fleet",
  os: "OS",
  kernel: "Kernel",
  cpuModel: "CPU model",
  addresses: "Address",
  uptime: "Uptime",
  lastError: "Last error",
  range: "Range",
  zoomHint: "drag on a chart to zoom, double-click to reset",
  topCpu: "Top processes by CPU",
  topMem: "Top processes by memory",
  ports: "Ports",
  noData: "no data in this range",
  loading: "loading…",
  cpuPerCore: "CPU per core",
  memoryFamily: "Memory & swap",
  loadFamily: "Load average",
  disks: "Filesystems",
  diskIo: "Disk I/O",
  networkFamily: "Network per interface",
  temperatures: "Temperatures",
  gpus: "GPU",
  pingFamily: "Ping",
  other: "Other",
  summary: "up {up} · down {down} · pending {pending}",
  process: "Process",
  language: "한국어",
} as const;

export type Key = keyof typeof en;
type Table = Partial<Record<Key, string>>;

const ko: Table = {
  appTitle: "거울단계",
  signIn: "로그인",
  signingIn: "로그인 중…",
  user: "사용자",
  password: "비밀번호",
  code: "6자리 코드",
  codeHint: "인증 앱의 코드",
  signOut: "로그아웃",
  linkFailed: "이미 사용했거나 만료된 로그인 링크입니다. 코드로 로그인하세요.",
  fleet: "전체 현황",
  hosts: "호스트",
  search: "이름 또는 주소 검색",
  allGroups: "모든 그룹",
  allStates: "모든 상태",
  allTags: "모든 태그",
  host: "호스트",
  state: "상태",
  memory: "메모리",
  load: "부하",
  disk: "디스크",
  network: "네트워크",
  temperature: "온도",
  updated: "갱신",
  live: "실시간",
  connecting: "연결 중…",
  offline: "연결 끊김 — 재시도 중",
  back: "전체 현황",
  uptime: "가동 시간",
  lastError: "마지막 오류",
  range: "기간",
  topCpu: "CPU 사용 상위 프로세스",
  topMem: "메모리 사용 상위 프로세스",
  noData: "이 기간에 데이터 없음",
  loading: "불러오는 중…",
  temperatures: "온도",
  summary: "정상 {up} · 장애 {down} · 대기 {pending}",
  language: "English",
};

export const TABLES: Record<string, Table> = { en, ko };
export type Lang = "en" | "ko";

let lang: Lang = "en";

export function setLang(next: Lang): void {
  lang = next;
}

export function getLang(): Lang {
  return lang;
}

/** The language to start in: a saved choice, else the browser's. */
export function initialLang(saved: string | null, browser: string | undefined): Lang {
  if (saved === "en" || saved === "ko") return saved;
  return browser?.toLowerCase().startsWith("ko") ? "ko" : "en";
}

export function t(key: Key, vars: Record<string, string | number> = {}, in_: Lang = lang): string {
  const text = TABLES[in_]?.[key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}
