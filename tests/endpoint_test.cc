// The peer contract's address forms.
#include "sockparity/net/endpoint.h"

#include "test_util.h"

namespace sockparity::testing {
namespace {

using ::testing::HasSubstr;

TEST(EndpointParseTest, ContractFormsRoundTrip) {
  for (const char* text :
       {"unix:/tmp/sockparity/x.sock", "unix:@some-name", "tcp:127.0.0.1:1",
        "tcp:127.0.0.1:65535", "tcp:[::1]:8080"}) {
    SP_ASSERT_OK_AND_ASSIGN(Endpoint endpoint, Endpoint::Parse(text));
    EXPECT_EQ(endpoint.ToString(), text);
  }
  SP_ASSERT_OK_AND_ASSIGN(Endpoint tcp6, Endpoint::Parse("tcp:[::1]:9"));
  EXPECT_EQ(tcp6.kind(), TransportKind::kTcp6);
  SP_ASSERT_OK_AND_ASSIGN(Endpoint path, Endpoint::Parse("unix:/a/b"));
  EXPECT_EQ(path.path(), "/a/b");
}

struct Bad {
  std::string text;
  std::string why;
};

TEST(EndpointParseTest, BadAddressesSayWhat) {
  for (const Bad& bad : std::vector<Bad>{
           {"", "expected unix:/PATH"},
           {"udp:127.0.0.1:53", "expected unix:/PATH"},
           {"unix:relative.sock", "must be absolute"},
           {"unix:@", "abstract name is empty"},
           {"tcp:127.0.0.1:0", "from 1 to 65535"},
           {"tcp:127.0.0.1:65536", "from 1 to 65535"},
           {"tcp:127.0.0.1:+80", "from 1 to 65535"},
           {"tcp:127.0.0.1:", "from 1 to 65535"},
           {"tcp:10.1.2.3:80", "only loopback"},
           {"tcp:[::2]:80", "only loopback"},
           {"unix:/" + std::string(200, 'p'), "at most 107"},
           {std::string("unix:/a\0b", 9), "no NUL byte"},
       }) {
    absl::StatusOr<Endpoint> endpoint = Endpoint::Parse(bad.text);
    ASSERT_FALSE(endpoint.ok()) << bad.text;
    EXPECT_THAT(endpoint.status().message(), HasSubstr(bad.why)) << bad.text;
    // Every error names the address it is about.
    EXPECT_THAT(std::string(endpoint.status().message()),
                ::testing::StartsWith("address '"))
        << bad.text;
  }
}

TEST(EndpointParseTest, InheritedDescriptor) {
  EXPECT_EQ(ParseInheritedFd("fd:3").value_or(-1), 3);
  EXPECT_EQ(ParseInheritedFd("fd:1023").value_or(-1), 1023);
  for (const char* bad : {"fd:", "fd:-1", "fd:1024", "fd:3x", "fd: 3", "3"}) {
    EXPECT_FALSE(ParseInheritedFd(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace sockparity::testing
