// Only the header matters: it makes LLVMFuzzerRunDriver visible to Swift.
#include "FuzzShim.h"
