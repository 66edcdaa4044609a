/**
 * Runs an Argo CD resource health script (Lua) on an object, the way Argo CD does: the object is the
 * global `obj`, the script returns a table with `status` and `message`. Argo CD embeds gopher-lua (Lua
 * 5.1); fengari is Lua 5.3, which runs the same plain scripts, so a health check is tested by running it.
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/health/#custom-health-checks
 */
import fengari from 'fengari';

const { lua, lauxlib, lualib, to_luastring, to_jsstring } = fengari;

/** What a health script returns. */
export interface HealthResult {
  readonly status: string;
  readonly message: string;
}

type State = ReturnType<typeof lauxlib.luaL_newstate>;

function push(L: State, value: unknown): void {
  if (value === null || value === undefined) lua.lua_pushnil(L);
  else if (typeof value === 'string') lua.lua_pushstring(L, to_luastring(value));
  else if (typeof value === 'number') lua.lua_pushnumber(L, value);
  else if (typeof value === 'boolean') lua.lua_pushboolean(L, value);
  else if (Array.isArray(value)) {
    lua.lua_newtable(L);
    value.forEach((item, i) => {
      push(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    lua.lua_newtable(L);
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      push(L, v);
      lua.lua_setfield(L, -2, to_luastring(k));
    }
  }
}

function field(L: State, name: string): string {
  lua.lua_getfield(L, -1, to_luastring(name));
  const raw = lua.lua_tostring(L, -1);
  lua.lua_pop(L, 1);
  return raw ? to_jsstring(raw) : '';
}

/** Runs `script` with `obj` and returns its verdict; a script error throws with Lua's message. */
export function runHealthScript(script: string, obj: object): HealthResult {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  push(L, obj);
  lua.lua_setglobal(L, to_luastring('obj'));
  if (lauxlib.luaL_dostring(L, to_luastring(script)) !== lua.LUA_OK)
    throw new Error(`health script failed: ${to_jsstring(lua.lua_tostring(L, -1) ?? to_luastring('?'))}`);
  if (!lua.lua_istable(L, -1)) throw new Error('health script did not return a table');
  return { status: field(L, 'status'), message: field(L, 'message') };
}
