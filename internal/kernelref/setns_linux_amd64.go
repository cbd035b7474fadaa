package kernelref

const sysSetns = 308 // setns(2) on x86-64
