SC_TEST_KREL=6.1.0-57-amd64
SC_TEST_RUNTIME=/var/lib/stapcache/runtime/4.8-fixed
SC_TEST_BUILDROOT=/var/lib/stapcache-test/buildroot/trixie
