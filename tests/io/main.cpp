// The io layer's test executable; each test_*.cpp beside this file is one suite.
#define BOOST_TEST_MODULE stepgrad io
#include <boost/test/unit_test.hpp>
