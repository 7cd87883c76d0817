/* Client (5c): allocates nothing itself. */
int main(void) { return 0; }
