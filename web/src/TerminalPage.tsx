// A shell on a host in the browser: xterm.js over /api/hosts/{name}/terminal (a PTY channel
// on the host's SSH connection). Its own lazily loaded chunk: xterm is not in the first load.

import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import "./control.css";
import { useEffect, useRef, useState } from "preact/hooks";
import { closeReason, wsUrl } from "./control";
import { t } from "./i18n";

type Status = { kind: "connecting" } | { kind: "open" } | { kind: "closed"; reason: string };

const FONT = '"DejaVu Sans Mono", "Noto Sans Mono CJK KR", "Noto Sans CJK KR", Menlo, Consolas, monospace';

/** The system clipboard where the page may use it (https or loopback), else execCommand. */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const area = document.createElement("textarea");
  area.value = text;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try {
    if (!document.execCommand("copy")) throw new Error("copy refused");
  } finally {
    area.remove();
  }
}

async function readClipboard(): Promise<string | null> {
  if (!navigator.clipboard?.readText || !window.isSecureContext) return null;
  return navigator.clipboard.readText().catch(() => null);
}

function useTerminal(name: string, attempt: number, box: { current: HTMLDivElement | null }) {
  const [status, setStatus] = useState<Status>({ kind: "connecting" });
  const [size, setSize] = useState("");
  const [note, setNote] = useState<string | null>(null);
  const termRef = useRef<Terminal | null>(null);

  const copy = () => {
    const text = termRef.current?.getSelection() ?? "";
    if (!text) return;
    copyText(text).then(
      () => setNote(t("copied")),
      (exc: Error) => setNote(exc.message),
    );
  };
  const paste = () => {
    readClipboard().then((text) => {
      if (text === null) setNote(t("pasteBlocked"));
      else termRef.current?.paste(text);
      termRef.current?.focus();
    });
  };

  useEffect(() => {
    const element = box.current!;
    setStatus({ kind: "connecting" });
    setNote(null);
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: FONT,
      fontSize: 14,
      scrollback: 5000,
      rightClickSelectsWord: true,
      theme: { background: "#05080f", foreground: "#dbe4f3", cursor: "#38bdf8", selectionBackground: "#38bdf866" },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    fit.fit();
    termRef.current = term;
    setSize(`${term.cols}×${term.rows}`);

    const path = `/api/hosts/${encodeURIComponent(name)}/terminal?cols=${term.cols}&rows=${term.rows}`;
    const socket = new WebSocket(wsUrl(path));
    let opened = false;
    const send = (message: object) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    };
    socket.onopen = () => {
      opened = true;
      setStatus({ kind: "open" });
      term.focus();
    };
    socket.onmessage = (message) => term.write(message.data as string);
    socket.onclose = (close) => {
      const reason = closeReason(close.code, close.reason, opened);
      setStatus({ kind: "closed", reason });
      term.options.disableStdin = true;
      term.options.cursorBlink = false;
    };
    const input = term.onData((data) => send({ type: "input", data }));
    const resized = term.onResize(({ cols, rows }) => {
      setSize(`${cols}×${rows}`);
      send({ type: "resize", cols, rows });
    });
    // The page's size follows the window (CSS); the terminal follows its box.
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(element);
    term.attachCustomKeyEventHandler((event) => {
      if (event.type !== "keydown") return true;
      const key = event.key.toLowerCase();
      const copyKeys = (event.ctrlKey && event.shiftKey && key === "c") || (event.ctrlKey && key === "insert");
      const pasteKeys = (event.ctrlKey && event.shiftKey && key === "v") || (event.shiftKey && key === "insert");
      if (!copyKeys && !pasteKeys) return true; // Ctrl+C stays an interrupt for the shell
      event.preventDefault();
      if (copyKeys) copy();
      else paste();
      return false;
    });

    return () => {
      observer.disconnect();
      input.dispose();
      resized.dispose();
      socket.onclose = null;
      socket.close(1000);
      term.dispose();
      termRef.current = null;
    };
  }, [name, attempt]);

  return { status, size, note, copy, paste };
}

export function TerminalPage({ name }: { name: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [attempt, setAttempt] = useState(0);
  const { status, size, note, copy, paste } = useTerminal(name, attempt, box);
  const statusText =
    status.kind === "open"
      ? t("termOpen")
      : status.kind === "connecting"
        ? t("termConnecting")
        : t("termClosed", { reason: status.reason });
  const badge = status.kind === "open" ? "ok" : status.kind === "connecting" ? "idle" : "warn";
  return (
    <section class="terminal-page" data-host={name}>
      <div class="term-bar">
        <a href={`#/host/${encodeURIComponent(name)}`}>
          <b>{name}</b>
        </a>
        <span class={`badge ${badge}`} id="term-status" data-state={status.kind}>
          {statusText}
        </span>
        <small id="term-size">{size}</small>
        <span class="spacer" />
        <button class="ghost" id="term-copy" onClick={copy}>
          {t("copy")}
        </button>
        <button class="ghost" id="term-paste" onClick={paste}>
          {t("paste")}
        </button>
        {status.kind === "closed" && (
          <button id="term-reconnect" onClick={() => setAttempt((n) => n + 1)}>
            {t("reconnect")}
          </button>
        )}
      </div>
      <div class="term-box" ref={box} />
      <small class="muted" id="term-note">
        {note ?? t("termHint")}
      </small>
    </section>
  );
}
