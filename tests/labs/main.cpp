// The labs' test executable (the grader shared with the explorer's "Your turn"); each test_*.cpp
// beside this file is one suite.
#define BOOST_TEST_MODULE stepgrad labs
#include <boost/test/unit_test.hpp>
