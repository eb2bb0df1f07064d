/*
 * Loads a Node addon the way Node does, without Node: dlopen() it with RTLD_NOW, so that every
 * symbol it imports must resolve at once, then look up the N-API entry point. The napi_* and
 * node_api_* functions Node would provide come from stubs generated beside this file (linked with
 * -rdynamic); everything else must come from the C library the program runs on. The addon's
 * constructors (napi-rs registers its exports from them) run during dlopen().
 * Used by scripts/cross.sh for the musl targets, which have no Node on this machine.
 */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s ADDON.node\n", argv[0]);
    return 2;
  }
  void *handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    fprintf(stderr, "dlopen-check: dlopen failed: %s\n", dlerror());
    return 1;
  }
  void *entry = dlsym(handle, "napi_register_module_v1");
  if (!entry) {
    fprintf(stderr, "dlopen-check: no napi_register_module_v1: %s\n", dlerror());
    return 1;
  }
  printf("dlopen-check: loaded %s with RTLD_NOW, napi_register_module_v1 at %p\n", argv[1], entry);
  return 0;
}
