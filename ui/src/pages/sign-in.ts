import { signIn } from "../api.js";
import { field, h, replace } from "../dom.js";

export async function signInPage(view: HTMLElement): Promise<void> {
  const account = h("input", { name: "account", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const message = h("p", { class: "error", role: "alert", "aria-live": "assertive" });
  const form = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        message.textContent = "";
        try {
          await signIn(account.value, password.value);
          location.hash = "#/tasks";
        } catch (error) {
          message.textContent = `Sign-in failed: ${(error as Error).message}`;
          password.select();
        }
      },
    },
    h("h1", {}, "Sign in"),
    field("Access key", account),
    field("Secret key", password),
    message,
    h("button", { type: "submit" }, "Sign in"),
  );
  replace(view, form);
  account.focus();
}
