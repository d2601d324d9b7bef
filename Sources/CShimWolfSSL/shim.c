// No wrappers are needed: wolfSSL's API is functions, not function-like macros. The file exists
// because a C target needs a source; it also proves the header compiles on its own.
#include "CShimWolfSSL.h"
