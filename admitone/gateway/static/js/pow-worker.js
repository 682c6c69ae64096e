// Solves a proof-of-work challenge off the page's main thread (a module worker).
import { solve } from "./pow.js";

self.addEventListener("message", (event) => {
  const { challenge, bits } = event.data;
  self.postMessage({ nonce: solve(challenge, bits) });
});
