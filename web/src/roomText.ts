// The room page's text (RoomPage.tsx), English and Korean: kept with the page's chunk so the
// first load (i18n.ts) carries only the header's "Room" link. Same rules as i18n.ts.

import { getLang } from "./i18n";

const en = {
  empty: "No room yet",
  emptyHint: "Add sites, rooms, racks and places to inventory.yaml: each device at its U in a rack, PCs on desks. Cables with both ends are drawn and checked against LLDP and the MAC tables.",
  emptyThen: "Then check the file, and EGO reloads it:",
  search: "device name",
  fly: "Find",
  heat: "Heat (CPU)",
  notPlaced: "{name} is not placed in this room",
  legendUp: "up",
  legendDown: "down or alert firing",
  legendWrong: "cable not as documented",
  help: "drag to orbit, scroll or pinch to zoom, click a device to open it",
  cables: "Cables",
  noDrift: "Every checkable cable matches what LLDP and the MAC tables see.",
  unplaced: "Not placed in a room",
  noWebgl: "This browser cannot draw the 3D room (WebGL is off)",
  editTitle: "Move a device (admins)",
  editHint: "Written to inventory.yaml with its comments kept, checked and reloaded; in the audit log.",
  rack: "rack",
  move: "Move",
  moved: "{name} moved; inventory.yaml written and reloaded",
};
type Key = keyof typeof en;
const ko: Partial<Record<Key, string>> = {
  empty: "아직 방이 없습니다",
  emptyHint: "inventory.yaml에 sites, rooms, racks, places를 추가하세요: 랙의 각 장비는 U 위치에, PC는 책상 위에. 양쪽 끝이 있는 케이블은 그려지고 LLDP와 MAC 테이블로 확인됩니다.",
  emptyThen: "그다음 파일을 검사하면 EGO가 다시 읽습니다:",
  search: "장비 이름",
  fly: "찾기",
  heat: "열지도 (CPU)",
  notPlaced: "{name}은(는) 이 방에 배치되지 않았습니다",
  legendUp: "정상",
  legendDown: "다운 또는 알림 발생",
  legendWrong: "문서와 다른 케이블",
  help: "드래그로 회전, 스크롤이나 핀치로 확대, 장비를 누르면 열림",
  cables: "케이블",
  noDrift: "확인할 수 있는 모든 케이블이 LLDP와 MAC 테이블과 일치합니다.",
  unplaced: "방에 배치되지 않음",
  noWebgl: "이 브라우저는 3D 방을 그릴 수 없습니다 (WebGL 꺼짐)",
  editTitle: "장비 옮기기 (관리자)",
  editHint: "주석을 그대로 둔 채 inventory.yaml에 기록하고, 검사한 뒤 다시 읽습니다. 감사 로그에 남습니다.",
  rack: "랙",
  move: "옮기기",
  moved: "{name}을(를) 옮겼습니다. inventory.yaml을 기록하고 다시 읽었습니다",
};
export const ROOM_TEXT = { en, ko };

export function rt(key: Key, vars: Record<string, string | number> = {}): string {
  const text = (getLang() === "ko" ? ko[key] : undefined) ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}
