/** The few functions of fengari (a Lua 5.3 VM in JavaScript, no types published) that `lua.ts` uses. */
declare module 'fengari' {
  type State = object;
  const fengari: {
    lua: {
      LUA_OK: number;
      lua_newtable(L: State): void;
      lua_pushstring(L: State, s: Uint8Array): void;
      lua_pushnumber(L: State, n: number): void;
      lua_pushboolean(L: State, b: boolean): void;
      lua_pushnil(L: State): void;
      lua_rawseti(L: State, index: number, n: number): void;
      lua_setfield(L: State, index: number, k: Uint8Array): void;
      lua_setglobal(L: State, name: Uint8Array): void;
      lua_getfield(L: State, index: number, k: Uint8Array): number;
      lua_tostring(L: State, index: number): Uint8Array | null;
      lua_istable(L: State, index: number): boolean;
      lua_pop(L: State, n: number): void;
    };
    lauxlib: { luaL_newstate(): State; luaL_dostring(L: State, s: Uint8Array): number };
    lualib: { luaL_openlibs(L: State): void };
    to_luastring(s: string): Uint8Array;
    to_jsstring(s: Uint8Array): string;
  };
  export default fengari;
}
