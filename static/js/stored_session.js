// A citizen's conversation token kept across reloads in Web Storage (local or session), or
// in memory where the browser refuses storage (privacy modes, third-party iframes). Used by
// the web chat (static/chat) and the video call page (static/video).
window.Open120StoredSession = function storedSession(storageName, key) {
  "use strict";
  let memory = null;
  const storage = () => window[storageName]; // reading it may throw, too
  return {
    load() {
      try {
        const value = JSON.parse(storage().getItem(key) || "null");
        return value && typeof value.token === "string" ? value : null;
      } catch (error) {
        return memory;
      }
    },
    save(value) {
      memory = value;
      try {
        storage().setItem(key, JSON.stringify(value));
      } catch (error) {
        /* memory only */
      }
    },
    clear() {
      memory = null;
      try {
        storage().removeItem(key);
      } catch (error) {
        /* nothing stored */
      }
    },
  };
};
