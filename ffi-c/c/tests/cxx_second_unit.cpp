/*
 * cxx_second_unit.cpp: a second translation unit including imds.hpp, linked with
 * test_cxx_wrapper.cpp, so a definition in the header that is not inline fails to link.
 */
#include <imds.hpp>

std::string_view version_from_second_unit();

std::string_view version_from_second_unit()
{
    auto config = imds::Config::create();
    return config.ok() ? imds::version() : std::string_view();
}
