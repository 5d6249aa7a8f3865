#include "core/clock.h"

namespace hotpath {

Clock& RealClock() {
  static SystemClock* clock = new SystemClock();  // never destroyed: safe at exit
  return *clock;
}

}  // namespace hotpath
