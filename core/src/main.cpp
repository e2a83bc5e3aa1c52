#include "app/cli.hpp"

int main(int argc, char** argv) {
  return conduit::app::runCli(argc, argv);
}
