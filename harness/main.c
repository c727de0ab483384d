/* xentcheck: main() only dispatches; the commands live in cli*.c. */
#include "cli.h"

int main(int argc, char **argv)
{
    return xc__cli_main(argc, argv);
}
