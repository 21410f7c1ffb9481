// The cli layer's test executable (the plots); each test_*.cpp beside this file is one
// suite.
#define BOOST_TEST_MODULE stepgrad cli
#include <boost/test/unit_test.hpp>
