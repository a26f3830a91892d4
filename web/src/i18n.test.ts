import { describe, expect, it } from "vitest";
import { TABLES, initialLang, t } from "./i18n";

describe("i18n", () => {
  it("falls back to English for a key Korean lacks", () => {
    expect(t("signIn", {}, "ko")).toBe("로그인");
    expect(t("cpu", {}, "ko")).toBe("CPU");
    expect(t("signIn", {}, "xx" as "ko")).toBe("Sign in");
  });
  it("fills variables", () => {
    expect(t("summary", { up: 3, down: 1, pending: 0 }, "en")).toBe("up 3 · down 1 · pending 0");
  });
  it("has every English text in Korean", () => {
    for (const key of Object.keys(TABLES.en)) expect(TABLES.ko, key).toHaveProperty(key);
  });
  it("has no Korean key that English lacks", () => {
    for (const key of Object.keys(TABLES.ko)) expect(TABLES.en).toHaveProperty(key);
  });
  it("starts in the saved or the browser's language", () => {
    expect(initialLang("ko", "en-US")).toBe("ko");
    expect(initialLang(null, "ko-KR")).toBe("ko");
    expect(initialLang(null, "de-DE")).toBe("en");
    expect(initialLang("xx", undefined)).toBe("en");
  });
});
