// The framework's ceiling for bench/ingress.sh: a bare Pistache endpoint that reads the body and
// computes its HMAC-SHA256, as Conduit must, and does nothing else. Same Pistache options as
// Conduit's server, so that the two figures differ only by Conduit's own work.
//
// usage: conduit_bare_pistache PORT THREADS MAX_BODY_BYTES

#include <cstdlib>
#include <iostream>
#include <string>

#include <openssl/hmac.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>

namespace Http = Pistache::Http;

class HmacOnly : public Http::Handler {
 public:
  HTTP_PROTOTYPE(HmacOnly)

  void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
    static const std::string kKey = "bench-secret";
    unsigned char digest[32];
    unsigned int size = 0;
    const std::string& body = request.body();
    HMAC(EVP_sha256(), kKey.data(), static_cast<int>(kKey.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &size);
    writer.send(Http::Code::Accepted, digest[0] == 0 ? "{\"ok\":1}" : "{\"ok\":0}",
                MIME(Application, Json));
  }
};

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: conduit_bare_pistache PORT THREADS MAX_BODY_BYTES\n";
    return 2;
  }
  const auto port = static_cast<uint16_t>(std::atoi(argv[1]));
  const int threads = std::atoi(argv[2]);
  const auto max_body = static_cast<size_t>(std::atoll(argv[3]));
  Http::Endpoint endpoint(Pistache::Address("127.0.0.1", Pistache::Port(port)));
  endpoint.init(Http::Endpoint::options()
                    .threads(threads)
                    .maxRequestSize(max_body + 64 * 1024)
                    .flags(Pistache::Tcp::Options::ReuseAddr));
  endpoint.setHandler(Http::make_handler<HmacOnly>());
  endpoint.serve();
}
