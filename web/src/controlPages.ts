// One lazily loaded chunk for the operators' pages (see lazy.tsx).
import "./control.css";

export { AuditPage } from "./AuditPage";
export { HostControls } from "./HostControls";
export { RunPage } from "./RunPage";
export { TunnelsPage } from "./TunnelsPage";
