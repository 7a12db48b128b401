/* The floor: a setuid program that does nothing but start and exit, to
 * measure what exec'ing any setuid binary costs. */
int main(void) { return 0; }
