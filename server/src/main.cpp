// parleyd: the Parley server. Everything is in the parley_server library.
#include "server.hpp"

int main(int argc, char** argv) {
  return parley::server::RunServerMain(argc, argv, "parleyd");
}
