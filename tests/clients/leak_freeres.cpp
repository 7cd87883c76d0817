// Memory that only libc's and libstdc++'s freeres routines give back:
// libstdc++'s emergency exception pool (allocated at start-up), an
// exception thrown and caught, iostream output, and libc's locale and
// strerror buffers. Under --run-libc-freeres/--run-cxx-freeres=yes (the
// defaults) memcheck finds them freed; with =no they stay reachable.
#include <clocale>
#include <cstring>
#include <iostream>
#include <stdexcept>

int main() {
  std::setlocale(LC_ALL, "C.UTF-8");
  std::cout << "hello " << std::strerror(2) << std::endl;
  try {
    throw std::runtime_error("caught");
  } catch (const std::exception& e) {
    std::cout << e.what() << std::endl;
  }
  return 0;
}
